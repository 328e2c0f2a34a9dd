// What the SQLite and Postgres stores do identically: every read, and every write that is one
// plain statement. Each dialect supplies three primitives (rows, row, run) and keeps for itself
// what genuinely differs: multi-statement transactions, locking, batching and index hints.
// SQL uses `?` placeholders; the Postgres store numbers them.

import type { LockInfo, StateMeta, StateVersion, StateVersionInfo } from './config-plane.js';
import type {
  Beat,
  Cursor,
  Delivery,
  DeliveryCount,
  DeliveryQuery,
  EventGroup,
  EventGroupQuery,
  EventQuery,
  IdKind,
  ExecutorInfo,
  LogQuery,
  ReceivedEvent,
  ReceivedQuery,
  StoredEvent,
  StoredLogEntry,
} from './runtime-plane.js';
import { isoTime } from './iso-time.js';
import { ackSteps, enqueueSteps, sessionSteps, takeSteps, type InboxEnqueue, type InboxEntry, type InboxSessionInfo, type Steps } from './inbox.js';
import type { IngestItem } from './runtime-plane.js';
import { INFO_COLUMNS, limitClause, toInfo, toVersion, type VersionRow } from './rows.js';
import { EVENT_COLUMNS, LOCK_HOLDER, conditions } from './sql.js';

export abstract class SqlStore {
  protected constructor(
    readonly location: string,
    /** epoch-ms clock for run_at, leases and timestamps; tests pass a controllable one */
    protected readonly now: () => number,
  ) {}

  /** Rows of one read. */
  protected abstract rows<T>(text: string, args?: readonly unknown[]): Promise<T[]>;
  /** The first row of one read. */
  protected abstract row<T>(text: string, args?: readonly unknown[]): Promise<T | undefined>;
  /** One write statement, committed (SQLite: with the rest of its batch); the rows it changed. */
  protected abstract run(text: string, args?: readonly unknown[]): Promise<number>;

  /**
   * Runs a multi-statement operation (state/inbox.ts) in one transaction of this dialect. It takes
   * a maker, not a generator: SQLite's write batch may roll back and run an operation again.
   */
  protected abstract drive<T>(make: () => Steps<T>): Promise<T>;

  /**
   * The events table as a window walk reads it (eventsReceived). SQLite names the received_at
   * index: with a source list its planner took the (source, dedupe_key) index and sorted every
   * event of those sources for each page, so a walk grew with the square of the window. One
   * source is read through its slice of the (source, received_at) index instead.
   */
  protected receivedScan(_sources: readonly string[] | null): string {
    return 'events';
  }

  protected iso(ms = this.now()): string {
    return isoTime(ms);
  }

  // ---- config plane ----

  async meta(): Promise<StateMeta> {
    return (await this.row<StateMeta>('SELECT lineage, serial, format_version, secret_salt FROM state_meta WHERE id = 1'))!;
  }

  async current(): Promise<StateVersion | null> {
    const r = await this.row<VersionRow>(
      `SELECT ${INFO_COLUMNS.split(', ').map((c) => `v.${c}`).join(', ')}, v.snapshot
       FROM state_meta m JOIN state_versions v ON v.serial = m.serial WHERE m.id = 1`,
    );
    return r ? toVersion(r) : null;
  }

  async version(serial: number): Promise<StateVersion | null> {
    const r = await this.row<VersionRow>(`SELECT ${INFO_COLUMNS}, snapshot FROM state_versions WHERE serial = ?`, [serial]);
    return r ? toVersion(r) : null;
  }

  async versions(): Promise<StateVersionInfo[]> {
    return (await this.rows<VersionRow>(`SELECT ${INFO_COLUMNS} FROM state_versions ORDER BY serial`)).map(toInfo);
  }

  async blob(sha256: string): Promise<string | null> {
    return (await this.row<{ text: string }>('SELECT text FROM blobs WHERE sha256 = ?', [sha256]))?.text ?? null;
  }

  async heartbeatLock(id: string): Promise<void> {
    await this.run('UPDATE locks SET heartbeat_at = ? WHERE id = ?', [this.iso(), id]);
  }

  async unlock(id: string): Promise<boolean> {
    return (await this.run('DELETE FROM locks WHERE id = ?', [id])) === 1;
  }

  async lockHolder(): Promise<LockInfo | null> {
    return (await this.row<LockInfo>(LOCK_HOLDER)) ?? null;
  }

  // ---- runtime plane: settling deliveries (fenced by lease owner) ----

  async complete(id: string, owner: string): Promise<boolean> {
    const n = await this.run(
      `UPDATE deliveries SET status = 'delivered', lease_until = NULL, last_error = NULL, updated_at = ?
       WHERE id = ? AND lease_owner = ? AND status = 'leased'`,
      [this.iso(), id, owner],
    );
    return n === 1;
  }

  async fail(id: string, owner: string, error: string, next: { runAt: number } | 'dead'): Promise<boolean> {
    const fenced = `WHERE id = ? AND lease_owner = ? AND status = 'leased'`;
    const n =
      next === 'dead'
        ? await this.run(`UPDATE deliveries SET status = 'dead', lease_until = NULL, last_error = ?, updated_at = ? ${fenced}`, [
            error,
            this.iso(),
            id,
            owner,
          ])
        : await this.run(
            `UPDATE deliveries SET status = 'retry', run_at = ?, lease_until = NULL, last_error = ?, updated_at = ? ${fenced}`,
            [next.runAt, error, this.iso(), id, owner],
          );
    return n === 1;
  }

  releaseAll(owner: string): Promise<number> {
    const now = this.now();
    // the attempt counter is kept: a released claim still counted as an attempt
    return this.run(
      `UPDATE deliveries SET status = 'pending', run_at = ?, lease_owner = NULL, lease_until = NULL, updated_at = ?
       WHERE lease_owner = ? AND status = 'leased'`,
      [now, this.iso(now), owner],
    );
  }

  // ---- runtime plane: operator control ----

  async cancel(id: string, reason: string): Promise<boolean> {
    const n = await this.run(
      `UPDATE deliveries SET status = 'cancelled', lease_until = NULL, last_error = ?, updated_at = ?
       WHERE id = ? AND status IN ('pending', 'retry', 'leased')`,
      [reason, this.iso(), id],
    );
    return n === 1;
  }

  async redrive(id: string, serial?: number): Promise<boolean> {
    const now = this.now();
    const n = await this.run(
      `UPDATE deliveries SET status = 'pending', attempts = 0, run_at = ?, lease_owner = NULL, lease_until = NULL,
         state_serial = COALESCE(?, state_serial), updated_at = ? WHERE id = ? AND status IN ('dead', 'cancelled')`,
      [now, serial ?? null, this.iso(now), id],
    );
    return n === 1;
  }

  async addDeliveries(rows: ReadonlyArray<{ id: string; event_id: string; route: string; actor: string; state_serial: number }>): Promise<number> {
    const now = this.now();
    const ts = this.iso(now);
    let added = 0;
    // 9 values a row: 500 rows stay far below either dialect's limit on parameters
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      added += await this.run(
        `INSERT INTO deliveries (id, event_id, route, actor, state_serial, status, attempts, run_at, created_at, updated_at)
         VALUES ${chunk.map(() => "(?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)").join(', ')}
         ON CONFLICT (event_id, route) DO NOTHING`,
        chunk.flatMap((r) => [r.id, r.event_id, r.route, r.actor, r.state_serial, now, ts, ts]),
      );
    }
    return added;
  }

  // ---- runtime plane: inspection ----

  async delivery(id: string): Promise<Delivery | null> {
    return (await this.row<Delivery>('SELECT * FROM deliveries WHERE id = ?', [id])) ?? null;
  }

  deliveries(q: DeliveryQuery): Promise<Delivery[]> {
    const { where, args } = conditions([
      ['status = ?', q.status],
      ['route = ?', q.route],
      ['event_id = ?', q.event_id],
    ]);
    return this.rows<Delivery>(`SELECT * FROM deliveries ${where} ORDER BY created_at DESC, id ${limitClause(q.limit)}`, args);
  }

  /**
   * Ids (or trace ids) starting with `prefix`, in order, at most `limit`: what a pasted short id
   * may mean. The prefix is checked by the caller to be [a-z0-9_] only.
   */
  async idsWithPrefix(kind: IdKind, prefix: string, limit: number): Promise<string[]> {
    const [table, col] = kind === 'delivery' ? ['deliveries', 'id'] : kind === 'event' ? ['events', 'id'] : ['events', 'trace_id'];
    const m = this.prefixMatch(col, prefix);
    const rows = await this.rows<{ id: string }>(`SELECT DISTINCT ${col} AS id FROM ${table} WHERE ${m.sql} ORDER BY ${col} LIMIT ?`, [...m.args, limit]);
    return rows.map((r) => r.id);
  }

  /**
   * A prefix test on a text column. LIKE, because a range on a Postgres column with a linguistic
   * collation (en_US) does not order `_` bytewise; SQLite overrides it with a range its index serves.
   */
  protected prefixMatch(col: string, prefix: string): { sql: string; args: unknown[] } {
    return { sql: `${col} LIKE ? ESCAPE '\\'`, args: [`${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`] };
  }

  async event(id: string): Promise<StoredEvent | null> {
    return (await this.row<StoredEvent>(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = ?`, [id])) ?? null;
  }

  events(q: EventQuery): Promise<StoredEvent[]> {
    const { where, args } = conditions([
      ['source = ?', q.source],
      ['type = ?', q.type],
      ['trace_id = ?', q.trace_id],
    ]);
    return this.rows<StoredEvent>(`SELECT ${EVENT_COLUMNS} FROM events ${where} ORDER BY received_at DESC, id ${limitClause(q.limit)}`, args);
  }

  async eventsReceived(q: ReceivedQuery): Promise<ReceivedEvent[]> {
    const where = ['received_at >= ?'];
    const args: unknown[] = [q.since];
    if (q.sources) {
      if (!q.sources.length) return [];
      where.push(`source IN (${q.sources.map(() => '?').join(', ')})`);
      args.push(...q.sources);
    }
    if (q.after) {
      // a range on received_at first, so each page starts where the last ended in the index
      where.push('received_at >= ?', '(received_at > ? OR id > ?)');
      args.push(q.after.received_at, q.after.received_at, q.after.id);
    }
    if (q.groups) {
      if (!q.groups.length) return [];
      where.push(`(${q.groups.map(() => '(source = ? AND type = ? AND platform_event IS NOT DISTINCT FROM ? AND author_type IS NOT DISTINCT FROM ? AND hops = ?)').join(' OR ')})`);
      for (const g of q.groups) args.push(g.source, g.type, g.platform_event, g.author_type, g.hops);
    }
    args.push(q.limit);
    const rows = await this.rows<ReceivedEvent>(
      `SELECT id, source, type, platform_event, author_type, hops, received_at, event_json FROM ${this.receivedScan(q.sources)} WHERE ${where.join(' AND ')} ORDER BY received_at, id LIMIT ?`,
      args,
    );
    // Postgres returns BIGINT as text
    for (const r of rows) r.hops = Number(r.hops);
    return rows;
  }

  async eventGroups(q: EventGroupQuery): Promise<EventGroup[]> {
    const out: EventGroup[] = [];
    // in slices, to stay far below either dialect's limit on bound parameters; a source's groups
    // are all in one slice, so the slices' results simply add up
    for (let i = 0; i < q.sources.length; i += 500) {
      const slice = q.sources.slice(i, i + 500);
      // the events_match index (migrations 010, 011) holds every column read here: no event is read
      const rows = await this.rows<EventGroup>(
        `SELECT source, type, platform_event, author_type, hops, COUNT(*) AS count FROM events
         WHERE source IN (${slice.map(() => '?').join(', ')}) AND received_at >= ?
         GROUP BY source, type, platform_event, author_type, hops`,
        [...slice, q.since],
      );
      for (const r of rows) out.push({ source: r.source, type: r.type, platform_event: r.platform_event, author_type: r.author_type, hops: Number(r.hops), count: Number(r.count) });
    }
    return out;
  }

  async deliveryCounts(): Promise<DeliveryCount[]> {
    // counters kept by triggers (migration 003); the oldest run_at and created_at read only the backlog
    // (through the partial indexes claims use) and the dead letters
    const counts = await this.rows<DeliveryCount>(
      `SELECT route, status, CAST(SUM(count) AS BIGINT) AS count FROM delivery_counts
       GROUP BY route, status HAVING SUM(count) <> 0 ORDER BY route, status`,
    );
    const oldest = new Map<string, { t: number; c: string | null }>();
    const backlog = [
      // the waiting backlog: when each became due, and when the oldest was created (its event arrived)
      ...(await this.rows<{ route: string; status: string; t: number; c: string | null }>(
        `SELECT route, status, MIN(run_at) AS t, MIN(created_at) AS c FROM deliveries WHERE status IN ('pending', 'retry') GROUP BY route, status`,
      )),
      ...(await this.rows<{ route: string; status: string; t: number; c: null }>(
        `SELECT route, status, MIN(run_at) AS t, NULL AS c FROM deliveries WHERE status = 'leased' GROUP BY route, status`,
      )),
      // dead letters: few, and bounded by retention
      ...(await this.rows<{ route: string; status: string; t: number; c: null }>(
        `SELECT route, status, MIN(run_at) AS t, NULL AS c FROM deliveries WHERE status = 'dead' GROUP BY route, status`,
      )),
    ];
    for (const r of backlog) oldest.set(`${r.route}\0${r.status}`, { t: r.t, c: r.c });
    return counts.map((c) => {
      const o = oldest.get(`${c.route}\0${c.status}`);
      return { ...c, oldest_run_at: o?.t ?? null, oldest_created_at: o?.c ?? null };
    });
  }

  executors(): Promise<ExecutorInfo[]> {
    return this.rows<ExecutorInfo>('SELECT id, host, pid, serial_loaded, started_at, heartbeat_at FROM executors ORDER BY started_at, id');
  }

  async cursor(source: string): Promise<Cursor | null> {
    return (await this.row<Cursor>('SELECT cursor, etag, updated_at FROM cursors WHERE source = ?', [source])) ?? null;
  }

  async logs(q: LogQuery): Promise<StoredLogEntry[]> {
    const { where, args } = conditions([
      ['time >= ?', q.since],
      ['route = ?', q.route],
      ['trace_id = ?', q.trace_id],
      ['id > ?', q.afterId],
    ]);
    if (q.afterId !== undefined) {
      return this.rows<StoredLogEntry>(`SELECT * FROM log ${where} ORDER BY id ${limitClause(q.limit)}`, args);
    }
    const rows = await this.rows<StoredLogEntry>(`SELECT * FROM log ${where} ORDER BY id DESC ${limitClause(q.limit)}`, args);
    return rows.reverse();
  }

  // ---- runtime plane: coordination ----

  async releaseLease(name: string, holder: string): Promise<void> {
    // keep the row so the term keeps counting up
    await this.run('UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ?', [name, holder]);
  }

  abstract claimable(now?: number): Promise<boolean>;

  async beat(info: ExecutorInfo, liveWithinMs: number): Promise<Beat> {
    await this.heartbeatExecutor(info);
    const r = (await this.row<{ peers: number; serial: number }>(
      `SELECT (SELECT COUNT(*) FROM executors WHERE id <> ? AND heartbeat_at >= ?) AS peers, (SELECT serial FROM state_meta WHERE id = 1) AS serial`,
      [info.id, this.iso(this.now() - liveWithinMs)],
    ))!;
    return { peers: Number(r.peers), serial: r.serial, claimable: await this.claimable() };
  }

  async heartbeatExecutor(info: ExecutorInfo): Promise<void> {
    await this.run(
      `INSERT INTO executors (id, host, pid, serial_loaded, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid,
         serial_loaded = excluded.serial_loaded, heartbeat_at = excluded.heartbeat_at`,
      [info.id, info.host, info.pid, info.serial_loaded, info.started_at, info.heartbeat_at],
    );
  }

  async removeExecutor(id: string): Promise<void> {
    await this.run('DELETE FROM executors WHERE id = ?', [id]);
  }

  // ---- runtime plane: transform and cron state ----

  async kvGet(key: string): Promise<string | null> {
    return (await this.row<{ value: string }>('SELECT value FROM kv WHERE key = ?', [key]))?.value ?? null;
  }

  async kvSet(key: string, value: string): Promise<void> {
    await this.run('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  }

  // ---- runtime plane: inbox batching (state/inbox.ts) ----

  inboxEnqueue(e: InboxEnqueue): Promise<{ held: boolean; notified: boolean }> {
    return this.drive(() => enqueueSteps(e, this.now()));
  }

  inboxTake(key: string, limit: number, holdMs: number, token: string): Promise<{ entries: InboxEntry[]; remaining: number }> {
    return this.drive(() => takeSteps(key, limit, holdMs, token, this.now()));
  }

  inboxAck(key: string, token: string, notify: IngestItem | null): Promise<{ remaining: number; notified: boolean }> {
    return this.drive(() => ackSteps(key, token, notify, this.now()));
  }

  async inboxSession(key: string): Promise<InboxSessionInfo | null> {
    return (await this.drive(() => sessionSteps(key, this.now())))[0] ?? null;
  }

  inboxSessions(): Promise<InboxSessionInfo[]> {
    return this.drive(() => sessionSteps(null, this.now()));
  }
}
