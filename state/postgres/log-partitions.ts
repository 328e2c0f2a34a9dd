// Daily partitions of the log on Postgres (migration 006): the pruner creates each day's ahead of
// time and drops a day whole once all of it is past the retention. Partition names carry their
// range: log_pYYYYMMDD is that day, log_to_YYYYMMDD everything before that day; log_later is the
// default (rows of days not created yet). Runs in the caller's transaction.

import type pg from 'pg';

const DAY = 86_400_000;
/** days created ahead of today, so an executor that is down a while finds its days there */
const AHEAD_DAYS = 2;

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const compact = (d: string) => d.replace(/-/g, '');
const expand = (c: string) => `${c.slice(0, 4)}-${c.slice(4, 6)}-${c.slice(6, 8)}`;

/** The day a partition's range ends before (its exclusive upper bound), or null for the default. */
export function upperBound(name: string): string | null {
  const one = /^log_p(\d{8})$/.exec(name);
  if (one) return day(Date.parse(expand(one[1]!)) + DAY);
  const upto = /^log_to_(\d{8})$/.exec(name);
  return upto ? expand(upto[1]!) : null;
}

export interface PartitionChanges {
  created: string[];
  dropped: string[];
  /** partitions other than single days (the history before the upgrade, the default): pruned row by row */
  mixed: string[];
  /** rows in the dropped partitions, from the planner's statistics (approximate) */
  droppedRows: number;
}

/** The log's partitions with the planner's row estimates; fine outside a transaction. */
export const LIST_PARTITIONS = `SELECT c.relname AS name, c.reltuples AS rows FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = 'log'::regclass`;

export interface Partition {
  name: string;
  rows: number;
}

/** What maintenance would do to these partitions: the days to create and the partitions to drop. */
export function planPartitions(parts: Partition[], now: number, cutoffMs: number): { create: string[]; drop: Partition[]; mixed: string[] } {
  const names = new Set(parts.map((p) => p.name));
  const covered = (d: string) => parts.some((p) => p.name.startsWith('log_to_') && upperBound(p.name)! > d);
  const create: string[] = [];
  for (let k = 0; k <= AHEAD_DAYS; k++) {
    const d = day(now + k * DAY);
    if (!names.has(`log_p${compact(d)}`) && !covered(d)) create.push(d);
  }
  const cutoff = new Date(cutoffMs).toISOString();
  const drop: Partition[] = [];
  const mixed: string[] = [];
  for (const p of parts) {
    const upper = upperBound(p.name);
    // every row is before `upper`, and `upper` is not after the cutoff
    if (upper !== null && upper <= cutoff) drop.push(p);
    else if (!p.name.startsWith('log_p')) mixed.push(p.name);
  }
  return { create, drop, mixed };
}

export async function maintainLogPartitions(c: pg.PoolClient, now: number, cutoffMs: number): Promise<PartitionChanges> {
  // never hold up the log's inserts for long: if the locks are not granted soon, try next round
  await c.query(`SET LOCAL lock_timeout = '2s'`);
  const plan = planPartitions((await c.query(LIST_PARTITIONS)).rows as Partition[], now, cutoffMs);
  const out: PartitionChanges = { created: [], dropped: [], mixed: plan.mixed, droppedRows: 0 };
  for (const d of plan.create) {
    const name = `log_p${compact(d)}`;
    const next = day(Date.parse(d) + DAY);
    // created apart and attached, which does not block the log's inserts as CREATE ... PARTITION OF
    // would; rows of that day already in the default partition move in first
    await c.query(`CREATE TABLE ${name} (LIKE log INCLUDING DEFAULTS)`);
    await c.query(`WITH moved AS (DELETE FROM log_later WHERE time >= $1 AND time < $2 RETURNING *) INSERT INTO ${name} SELECT * FROM moved`, [d, next]);
    await c.query(`ALTER TABLE log ATTACH PARTITION ${name} FOR VALUES FROM ('${d}') TO ('${next}')`);
    out.created.push(name);
  }
  for (const p of plan.drop) {
    await c.query(`DROP TABLE ${p.name}`);
    out.dropped.push(p.name);
    out.droppedRows += Math.max(0, Number(p.rows));
  }
  return out;
}
