// Batched ingest for Postgres: every event of a batch (the ingest calls of one event-loop turn)
// in one statement: dedupe keys, events and deliveries as multi-row inserts chained by
// data-modifying CTEs, and a NOTIFY when pending work was added. One round trip and one commit
// per batch instead of a transaction with several statements per event. The rare outcomes the
// statement cannot settle (a duplicate whose first sighting a concurrent batch committed, the same
// event id again) are settled after it, as the per-call path does.

import type pg from 'pg';
import type { Delivery, IngestItem, IngestResult } from '../runtime-plane.js';
import { leasedRow } from '../leased-row.js';
import { matchValues } from '../sql.js';

export const WORK_CHANNEL = 'orgloop_work';

const BATCH_SQL = `
WITH k AS (
  INSERT INTO dedupe_keys (source, key, event_id, seen_at)
  SELECT s, k, e, $1 FROM unnest($3::text[], $4::text[], $5::text[]) AS u(s, k, e)
  ON CONFLICT DO NOTHING RETURNING event_id
), ev AS (
  INSERT INTO events (id, source, type, dedupe_key, event_json, trace_id, parent_id, hops, received_at, headers, platform_event, author_type)
  SELECT u.id, u.source, u.type, u.dedupe_key, u.event_json, u.trace_id, u.parent_id, u.hops, u.received_at, u.headers, u.platform_event, u.author_type
  FROM unnest($6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[], $14::text[], $24::text[], $25::text[], $26::text[])
    AS u(id, source, type, dedupe_key, event_json, trace_id, parent_id, hops, received_at, headers, platform_event, author_type)
  WHERE u.dedupe_key IS NULL OR u.id IN (SELECT event_id FROM k)
  ON CONFLICT DO NOTHING RETURNING id
), dl AS (
  INSERT INTO deliveries (id, event_id, route, actor, state_serial, status, attempts, run_at, lease_owner, lease_until, created_at, updated_at)
  SELECT v.id, v.event_id, v.route, v.actor, v.serial, v.status, v.attempts, $1, v.owner, v.until, $2, $2
  FROM unnest($15::text[], $16::text[], $17::text[], $18::text[], $19::bigint[], $20::text[], $21::bigint[], $22::text[], $23::bigint[])
    AS v(id, event_id, route, actor, serial, status, attempts, owner, until)
  WHERE v.event_id IN (SELECT id FROM ev)
  ON CONFLICT DO NOTHING RETURNING id, status
), n AS (
  SELECT pg_notify('${WORK_CHANNEL}', current_schema()) AS sent WHERE EXISTS (SELECT 1 FROM dl WHERE status = 'pending')
)
SELECT 'k' AS t, event_id AS id FROM k
UNION ALL SELECT 'e', id FROM ev
UNION ALL SELECT 'd', id FROM dl
UNION ALL SELECT 'n', '' FROM n`;

/** Runs one batch; `settle` handles, per item, what the statement left open. */
export async function ingestBatch(
  q: pg.Pool,
  items: IngestItem[],
  now: number,
  ts: string,
  settle: {
    owners(keys: Array<[string, string]>): Promise<Map<string, string>>;
    conflict(item: IngestItem): Promise<string>;
    /** the statement queued pending work and notified the executors listening for it */
    notified(): void;
  },
): Promise<IngestResult[]> {
  // a key or id repeated inside the batch is a duplicate of its first occurrence
  const firstOf = new Map<string, number>();
  const dupOf = new Array<number>(items.length).fill(-1);
  const cols: unknown[][] = Array.from({ length: 24 }, () => []);
  items.forEach(({ event: e, deliveries, leaseTo }, i) => {
    const keys = [`id\0${e.id}`, ...(e.dedupe_key === null ? [] : [`key\0${e.source}\0${e.dedupe_key}`])];
    const seen = keys.map((k) => firstOf.get(k)).find((j) => j !== undefined);
    if (seen !== undefined) {
      dupOf[i] = seen;
      return;
    }
    for (const k of keys) firstOf.set(k, i);
    if (e.dedupe_key !== null) [e.source, e.dedupe_key, e.id].forEach((v, c) => cols[c]!.push(v));
    [e.id, e.source, e.type, e.dedupe_key, e.event_json, e.trace_id, e.parent_id, e.hops, e.received_at].forEach((v, c) => cols[3 + c]!.push(v));
    cols[21]!.push(e.headers ?? null);
    const m = matchValues(e);
    cols[22]!.push(m.platform_event);
    cols[23]!.push(m.author_type);
    for (const d of deliveries) {
      const row = [d.id, e.id, d.route, d.actor, d.state_serial, leaseTo ? 'leased' : 'pending', leaseTo ? 1 : 0, leaseTo?.owner ?? null, leaseTo ? now + leaseTo.leaseMs : null];
      row.forEach((v, c) => cols[12 + c]!.push(v));
    }
  });
  // named: prepared once per pooled connection rather than parsed and planned per batch (store.ts)
  const r = await q.query({ name: 'orgloop_ingest', text: BATCH_SQL, values: [now, ts, ...cols] });
  const claimed = new Set<string>();
  const inserted = new Set<string>();
  const stored = new Set<string>();
  for (const row of r.rows as Array<{ t: string; id: string }>) {
    if (row.t === 'k') claimed.add(row.id);
    else if (row.t === 'e') inserted.add(row.id);
    else if (row.t === 'd') stored.add(row.id);
    else if (row.t === 'n') settle.notified();
  }
  const lost: Array<[string, string]> = [];
  items.forEach(({ event: e }, i) => {
    if (dupOf[i] === -1 && !inserted.has(e.id) && e.dedupe_key !== null && !claimed.has(e.id)) lost.push([e.source, e.dedupe_key]);
  });
  const owners = lost.length ? await settle.owners(lost) : new Map<string, string>();
  const out: IngestResult[] = [];
  for (let i = 0; i < items.length; i++) {
    const { event: e, deliveries, leaseTo } = items[i]!;
    if (dupOf[i] !== -1) {
      out.push({ inserted: false, event_id: out[dupOf[i]!]!.event_id });
    } else if (inserted.has(e.id)) {
      if (!leaseTo) out.push({ inserted: true, event_id: e.id });
      else {
        const until = now + leaseTo.leaseMs;
        const leased: Delivery[] = deliveries.filter((d) => stored.has(d.id)).map((d) => leasedRow(d, e.id, leaseTo.owner, now, until, ts));
        out.push({ inserted: true, event_id: e.id, leased });
      }
    } else if (e.dedupe_key !== null && !claimed.has(e.id)) {
      // the key belongs to an earlier event (perhaps one a concurrent batch just committed)
      out.push({ inserted: false, event_id: owners.get(`${e.source}\0${e.dedupe_key}`) ?? e.id });
    } else {
      out.push({ inserted: false, event_id: await settle.conflict(items[i]!) });
    }
  }
  return out;
}
