// SQLite implementation of the Store (DESIGN §4). better-sqlite3 is synchronous; the async
// methods exist for the Postgres twin. Every write goes through the WriteBatcher (one
// BEGIN IMMEDIATE transaction per event-loop turn); reads run directly against the WAL snapshot.

import type Database from 'better-sqlite3';
import type {
  Delivery,
  DeliveryStatus,
  ExecutorInfo,
  IngestItem,
  IngestResult,
  LockInfo,
  NewVersion,
  StateMeta,
  StateVersion,
  StateVersionInfo,
  RuntimeRename,
  Store,
  StoredEvent,
  StoredLogEntry,
} from '../store.js';
import { StaleSerialError } from '../store.js';
import { isoTime } from '../iso-time.js';
import { leasedRow } from '../leased-row.js';
import { INFO_COLUMNS, limitClause, toInfo, versionInfo, versionRowValues, type VersionRow } from '../rows.js';
import { WriteBatcher } from './batch.js';
import { connect } from './connect.js';
import { toStoreError } from './errors.js';

export interface SqliteStoreOptions {
  readonly?: boolean;
  /** epoch-ms clock; tests pass a controllable one */
  clock?: () => number;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly batch: WriteBatcher;
  private readonly now: () => number;
  private readonly stmts = new Map<string, Database.Statement>();
  private readonly lastPurge = new Map<string, number>();
  private closed = false;

  constructor(
    readonly location: string,
    opts: SqliteStoreOptions = {},
  ) {
    this.db = connect(location, opts.readonly ?? false);
    this.now = opts.clock ?? Date.now;
    this.batch = new WriteBatcher(this.db, (e) => toStoreError(e, location));
  }

  /** Prepared once per SQL text and reused. */
  private sql(text: string): Database.Statement {
    let s = this.stmts.get(text);
    if (!s) {
      s = this.db.prepare(text);
      this.stmts.set(text, s);
    }
    return s;
  }

  private read<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(toStoreError(e, this.location));
    }
  }

  private write<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`state store ${this.location} is closed`));
    return this.batch.submit(fn);
  }

  private iso(ms = this.now()): string {
    return isoTime(ms);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.batch.flush();
    this.closed = true;
    this.db.close();
  }

  // ---- config plane ----

  private metaNow(): StateMeta {
    return this.sql('SELECT lineage, serial, format_version, secret_salt FROM state_meta WHERE id = 1').get() as StateMeta;
  }

  meta(): Promise<StateMeta> {
    return this.read(() => this.metaNow());
  }

  private versionNow(serial: number): StateVersion | null {
    const r = this.sql(`SELECT ${INFO_COLUMNS}, snapshot FROM state_versions WHERE serial = ?`).get(serial) as
      | VersionRow
      | undefined;
    if (!r) return null;
    return { ...toInfo(r), snapshot: JSON.parse(r.snapshot!) as StateVersion['snapshot'] };
  }

  current(): Promise<StateVersion | null> {
    return this.read(() => {
      const { serial } = this.metaNow();
      return serial === 0 ? null : this.versionNow(serial);
    });
  }

  version(serial: number): Promise<StateVersion | null> {
    return this.read(() => this.versionNow(serial));
  }

  versions(): Promise<StateVersionInfo[]> {
    return this.read(() =>
      (this.sql(`SELECT ${INFO_COLUMNS} FROM state_versions ORDER BY serial`).all() as VersionRow[]).map(toInfo),
    );
  }

  private insertVersion(serial: number, parent: number | null, v: NewVersion): StateVersionInfo {
    const putBlob = this.sql('INSERT INTO blobs (sha256, text) VALUES (?, ?) ON CONFLICT (sha256) DO NOTHING');
    for (const [sha, text] of Object.entries(v.blobs)) putBlob.run(sha, text);
    const info = versionInfo(serial, parent, v, this.iso());
    this.sql(
      `INSERT INTO state_versions (${INFO_COLUMNS}, snapshot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(...versionRowValues(info, v.snapshot));
    return info;
  }

  writeVersion(v: NewVersion): Promise<StateVersionInfo> {
    return this.write(() => {
      const { serial } = this.metaNow();
      if (serial !== v.expectedSerial) throw new StaleSerialError(v.expectedSerial, serial);
      const info = this.insertVersion(serial + 1, serial === 0 ? null : serial, v);
      this.sql('UPDATE state_meta SET serial = ? WHERE id = 1').run(info.serial);
      for (const r of v.runtime_renames ?? []) this.renameRuntime(r);
      return info;
    });
  }

  /** Re-keys runtime rows for `state mv` (inside writeVersion's transaction). */
  private renameRuntime(r: RuntimeRename): void {
    if (r.kind === 'source') {
      this.sql('UPDATE cursors SET source = ? WHERE source = ?').run(r.to, r.from);
      this.sql("UPDATE events SET source = ? WHERE source = ? AND type <> 'actor.stopped'").run(r.to, r.from);
    } else if (r.kind === 'route') {
      this.sql('UPDATE deliveries SET route = ? WHERE route = ?').run(r.to, r.from);
    } else {
      this.sql('UPDATE deliveries SET actor = ? WHERE actor = ?').run(r.to, r.from);
      // an actor's completions are events whose source is the actor id
      this.sql("UPDATE events SET source = ? WHERE source = ? AND type = 'actor.stopped'").run(r.to, r.from);
    }
  }

  importVersion(lineage: string, v: NewVersion & { serial: number }): Promise<StateVersionInfo> {
    return this.write(() => {
      const { serial } = this.metaNow();
      if (serial !== v.expectedSerial) throw new StaleSerialError(v.expectedSerial, serial);
      const { top } = this.sql('SELECT MAX(serial) AS top FROM state_versions').get() as { top: number | null };
      if (top !== null && v.serial <= top) {
        throw new Error(
          `cannot import serial ${v.serial}: this store already holds versions up to ${top}; the imported serial must be higher`,
        );
      }
      const info = this.insertVersion(v.serial, serial === 0 ? null : serial, v);
      this.sql('UPDATE state_meta SET serial = ?, lineage = ?, secret_salt = COALESCE(?, secret_salt) WHERE id = 1').run(
        info.serial,
        lineage,
        v.secret_salt ?? null,
      );
      return info;
    });
  }

  blob(sha256: string): Promise<string | null> {
    return this.read(() => {
      const r = this.sql('SELECT text FROM blobs WHERE sha256 = ?').get(sha256) as { text: string } | undefined;
      return r?.text ?? null;
    });
  }

  private holderNow(): LockInfo | null {
    const r = this.sql(
      'SELECT id, operation, who, host, pid, created_at, heartbeat_at FROM locks WHERE singleton = 1',
    ).get() as LockInfo | undefined;
    return r ?? null;
  }

  tryLock(lock: LockInfo): Promise<LockInfo | null> {
    return this.write(() => {
      const r = this.sql(
        `INSERT INTO locks (singleton, id, operation, who, host, pid, created_at, heartbeat_at)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (singleton) DO NOTHING`,
      ).run(lock.id, lock.operation, lock.who, lock.host, lock.pid, lock.created_at, lock.heartbeat_at);
      return r.changes === 1 ? null : this.holderNow();
    });
  }

  heartbeatLock(id: string): Promise<void> {
    return this.write(() => {
      this.sql('UPDATE locks SET heartbeat_at = ? WHERE id = ?').run(this.iso(), id);
    });
  }

  unlock(id: string): Promise<boolean> {
    return this.write(() => this.sql('DELETE FROM locks WHERE id = ?').run(id).changes === 1);
  }

  lockHolder(): Promise<LockInfo | null> {
    return this.read(() => this.holderNow());
  }

  // ---- runtime plane: events and deliveries ----

  private ingestNow(items: IngestItem[]): IngestResult[] {
    const now = this.now();
    const ts = this.iso(now);
    const insertEvent = this.sql(
      `INSERT INTO events (id, source, type, dedupe_key, payload, trace_id, parent_id, hops, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    const existing = this.sql('SELECT id FROM events WHERE source = ? AND dedupe_key = ?');
    const insertDelivery = this.sql(
      `INSERT INTO deliveries (id, event_id, route, actor, state_serial, status, attempts, run_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    const insertLeased = this.sql(
      `INSERT INTO deliveries (id, event_id, route, actor, state_serial, status, attempts, run_at, lease_owner, lease_until, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 'leased', 1, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    return items.map(({ event: e, deliveries, leaseTo }) => {
      const inserted =
        insertEvent.run(e.id, e.source, e.type, e.dedupe_key, e.payload, e.trace_id, e.parent_id, e.hops, e.received_at)
          .changes === 1;
      if (!inserted) {
        // a duplicate (source, dedupe_key) or the same event id delivered again
        const prior =
          e.dedupe_key === null ? undefined : (existing.get(e.source, e.dedupe_key) as { id: string } | undefined);
        return { inserted: false, event_id: prior?.id ?? e.id };
      }
      if (!leaseTo) {
        for (const d of deliveries) insertDelivery.run(d.id, e.id, d.route, d.actor, d.state_serial, now, ts, ts);
        return { inserted: true, event_id: e.id };
      }
      const until = now + leaseTo.leaseMs;
      const leased: Delivery[] = [];
      for (const d of deliveries) {
        if (insertLeased.run(d.id, e.id, d.route, d.actor, d.state_serial, now, leaseTo.owner, until, ts, ts).changes === 1) {
          leased.push(leasedRow(d, e.id, leaseTo.owner, now, until, ts));
        }
      }
      return { inserted: true, event_id: e.id, leased };
    });
  }

  ingest(items: IngestItem[]): Promise<IngestResult[]> {
    return this.write(() => this.ingestNow(items));
  }

  commitPoll(
    source: string,
    leaseTerm: number,
    cursor: string | null,
    etag: string | null,
    items: IngestItem[],
  ): Promise<{ ok: boolean; results: IngestResult[] }> {
    return this.write(() => {
      const lease = this.sql('SELECT term, expires_at FROM leases WHERE name = ?').get(`source:${source}`) as
        | { term: number; expires_at: number }
        | undefined;
      if (!lease || lease.term !== leaseTerm || lease.expires_at <= this.now()) return { ok: false, results: [] };
      this.sql(
        `INSERT INTO cursors (source, cursor, etag, lease_term, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, etag = excluded.etag,
           lease_term = excluded.lease_term, updated_at = excluded.updated_at`,
      ).run(source, cursor, etag, leaseTerm, this.iso());
      return { ok: true, results: this.ingestNow(items) };
    });
  }

  cursor(source: string): Promise<{ cursor: string | null; etag: string | null; updated_at: string } | null> {
    return this.read(() => {
      const r = this.sql('SELECT cursor, etag, updated_at FROM cursors WHERE source = ?').get(source) as
        | { cursor: string | null; etag: string | null; updated_at: string }
        | undefined;
      return r ?? null;
    });
  }

  claim(owner: string, limit: number, leaseMs: number, now?: number): Promise<Delivery[]> {
    return this.write(() => {
      const t = now ?? this.now();
      const args = { owner, until: t + leaseMs, now: t, ts: this.iso(t), limit };
      const set = `SET status = 'leased', lease_owner = @owner, lease_until = @until,
                       attempts = attempts + 1, updated_at = @ts`;
      // leases abandoned by a crashed or stalled worker first: that work is the oldest.
      // INDEXED BY: on a fresh file without statistics the planner would otherwise pick the
      // status index and sort every due row on each claim.
      const expired = this.sql(
        `UPDATE deliveries ${set} WHERE id IN (
           SELECT id FROM deliveries INDEXED BY deliveries_leased WHERE status = 'leased' AND lease_until < @now
           ORDER BY lease_until LIMIT @limit) RETURNING *`,
      ).all(args) as Delivery[];
      const due =
        expired.length >= limit
          ? []
          : (this.sql(
              `UPDATE deliveries ${set} WHERE id IN (
                 SELECT id FROM deliveries INDEXED BY deliveries_due
                 WHERE status IN ('pending', 'retry') AND run_at <= @now
                 ORDER BY run_at LIMIT @limit) RETURNING *`,
            ).all({ ...args, limit: limit - expired.length }) as Delivery[]);
      return expired.concat(due.sort((a, b) => a.run_at - b.run_at));
    });
  }

  claimable(now?: number): Promise<boolean> {
    return this.read(() => {
      const t = now ?? this.now();
      return (
        this.sql(
          `SELECT EXISTS (SELECT 1 FROM deliveries INDEXED BY deliveries_leased WHERE status = 'leased' AND lease_until < ?)
               OR EXISTS (SELECT 1 FROM deliveries INDEXED BY deliveries_due WHERE status IN ('pending', 'retry') AND run_at <= ?)`,
        )
          .pluck()
          .get(t, t) === 1
      );
    });
  }

  extendLeases(owner: string, ids: string[], leaseMs: number): Promise<string[]> {
    return this.write(() => {
      const until = this.now() + leaseMs;
      const ts = this.iso();
      const extend = this.sql(
        `UPDATE deliveries SET lease_until = ?, updated_at = ? WHERE id = ? AND lease_owner = ? AND status = 'leased'`,
      );
      return ids.filter((id) => extend.run(until, ts, id, owner).changes === 0);
    });
  }

  complete(id: string, owner: string): Promise<boolean> {
    return this.write(
      () =>
        this.sql(
          `UPDATE deliveries SET status = 'delivered', lease_until = NULL, last_error = NULL, updated_at = ?
           WHERE id = ? AND lease_owner = ? AND status = 'leased'`,
        ).run(this.iso(), id, owner).changes === 1,
    );
  }

  fail(id: string, owner: string, error: string, next: { runAt: number } | 'dead'): Promise<boolean> {
    return this.write(() => {
      const ts = this.iso();
      const fenced = `WHERE id = ? AND lease_owner = ? AND status = 'leased'`;
      const r =
        next === 'dead'
          ? this.sql(
              `UPDATE deliveries SET status = 'dead', lease_until = NULL, last_error = ?, updated_at = ? ${fenced}`,
            ).run(error, ts, id, owner)
          : this.sql(
              `UPDATE deliveries SET status = 'retry', run_at = ?, lease_until = NULL, last_error = ?, updated_at = ? ${fenced}`,
            ).run(next.runAt, error, ts, id, owner);
      return r.changes === 1;
    });
  }

  cancel(id: string, reason: string): Promise<boolean> {
    return this.write(
      () =>
        this.sql(
          `UPDATE deliveries SET status = 'cancelled', lease_until = NULL, last_error = ?, updated_at = ?
           WHERE id = ? AND status IN ('pending', 'retry', 'leased')`,
        ).run(reason, this.iso(), id).changes === 1,
    );
  }

  releaseAll(owner: string): Promise<number> {
    return this.write(() => {
      const now = this.now();
      // the attempt counter is kept: a released claim still counted as an attempt
      return this.sql(
        `UPDATE deliveries SET status = 'pending', run_at = ?, lease_owner = NULL, lease_until = NULL, updated_at = ?
         WHERE lease_owner = ? AND status = 'leased'`,
      ).run(now, this.iso(now), owner).changes;
    });
  }

  redrive(id: string): Promise<boolean> {
    return this.write(() => {
      const now = this.now();
      return (
        this.sql(
          `UPDATE deliveries SET status = 'pending', attempts = 0, run_at = ?, lease_owner = NULL, lease_until = NULL,
             updated_at = ? WHERE id = ? AND status IN ('dead', 'cancelled')`,
        ).run(now, this.iso(now), id).changes === 1
      );
    });
  }

  delivery(id: string): Promise<Delivery | null> {
    return this.read(() => (this.sql('SELECT * FROM deliveries WHERE id = ?').get(id) as Delivery | undefined) ?? null);
  }

  deliveries(q: { status?: DeliveryStatus; route?: string; event_id?: string; limit?: number }): Promise<Delivery[]> {
    return this.read(() => {
      const { where, args } = conditions([
        ['status = ?', q.status],
        ['route = ?', q.route],
        ['event_id = ?', q.event_id],
      ]);
      return this.sql(`SELECT * FROM deliveries ${where} ORDER BY created_at DESC, id ${limitClause(q.limit)}`).all(
        ...args,
      ) as Delivery[];
    });
  }

  event(id: string): Promise<StoredEvent | null> {
    return this.read(() => (this.sql('SELECT * FROM events WHERE id = ?').get(id) as StoredEvent | undefined) ?? null);
  }

  events(q: { source?: string; type?: string; trace_id?: string; limit?: number }): Promise<StoredEvent[]> {
    return this.read(() => {
      const { where, args } = conditions([
        ['source = ?', q.source],
        ['type = ?', q.type],
        ['trace_id = ?', q.trace_id],
      ]);
      return this.sql(`SELECT * FROM events ${where} ORDER BY received_at DESC, id ${limitClause(q.limit)}`).all(
        ...args,
      ) as StoredEvent[];
    });
  }

  deliveryCounts(): Promise<Array<{ route: string; status: DeliveryStatus; count: number; oldest_run_at: number | null }>> {
    return this.read(
      () =>
        this.sql(
          `SELECT route, status, COUNT(*) AS count, MIN(run_at) AS oldest_run_at
           FROM deliveries GROUP BY route, status ORDER BY route, status`,
        ).all() as Array<{ route: string; status: DeliveryStatus; count: number; oldest_run_at: number | null }>,
    );
  }

  // ---- runtime plane: coordination ----

  acquireLease(name: string, holder: string, ttlMs: number): Promise<number | null> {
    return this.write(() => {
      const now = this.now();
      const r = this.sql('SELECT holder, term, expires_at FROM leases WHERE name = ?').get(name) as
        | { holder: string; term: number; expires_at: number }
        | undefined;
      if (!r) {
        this.sql('INSERT INTO leases (name, holder, term, expires_at) VALUES (?, ?, 1, ?)').run(name, holder, now + ttlMs);
        return 1;
      }
      const live = r.expires_at > now;
      if (live && r.holder !== holder) return null;
      // renewing a live lease keeps the term; any new tenure (even by the same holder after
      // expiry or release) bumps it, so writes fenced by the old term are refused
      const term = live ? r.term : r.term + 1;
      this.sql('UPDATE leases SET holder = ?, term = ?, expires_at = ? WHERE name = ?').run(holder, term, now + ttlMs, name);
      return term;
    });
  }

  renewLeases(holder: string, leases: Array<{ name: string; term: number }>, ttlMs: number): Promise<string[]> {
    if (leases.length === 0) return Promise.resolve([]);
    return this.write(() => {
      const now = this.now();
      const renew = this.sql('UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND term = ? AND expires_at > ?');
      return leases.filter((l) => renew.run(now + ttlMs, l.name, holder, l.term, now).changes === 0).map((l) => l.name);
    });
  }

  releaseLease(name: string, holder: string): Promise<void> {
    return this.write(() => {
      // keep the row so the term keeps counting up
      this.sql('UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ?').run(name, holder);
    });
  }

  heartbeatExecutor(info: ExecutorInfo): Promise<void> {
    return this.write(() => {
      this.sql(
        `INSERT INTO executors (id, host, pid, serial_loaded, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid,
           serial_loaded = excluded.serial_loaded, heartbeat_at = excluded.heartbeat_at`,
      ).run(info.id, info.host, info.pid, info.serial_loaded, info.started_at, info.heartbeat_at);
    });
  }

  removeExecutor(id: string): Promise<void> {
    return this.write(() => {
      this.sql('DELETE FROM executors WHERE id = ?').run(id);
    });
  }

  executors(): Promise<ExecutorInfo[]> {
    return this.read(() => this.sql('SELECT * FROM executors ORDER BY started_at, id').all() as ExecutorInfo[]);
  }

  // ---- runtime plane: transforms and cron ----

  seen(scope: string, key: string, windowMs: number): Promise<boolean> {
    return this.write(() => {
      const now = this.now();
      const r = this.sql('SELECT seen_at FROM dedup_seen WHERE scope = ? AND key = ?').get(scope, key) as
        | { seen_at: number }
        | undefined;
      // The window runs from the first accepted sighting: a duplicate does not extend it,
      // or a key repeated more often than its window would be suppressed forever.
      if (r !== undefined && r.seen_at > now - windowMs) return true;
      this.sql(
        `INSERT INTO dedup_seen (scope, key, seen_at) VALUES (?, ?, ?)
         ON CONFLICT (scope, key) DO UPDATE SET seen_at = excluded.seen_at`,
      ).run(scope, key, now);
      // rows older than the window can never match again: drop them about once per window
      const last = this.lastPurge.get(scope);
      if (last === undefined || now - last >= windowMs) {
        this.lastPurge.set(scope, now);
        this.sql('DELETE FROM dedup_seen WHERE scope = ? AND seen_at <= ?').run(scope, now - windowMs);
      }
      return false;
    });
  }

  kvGet(key: string): Promise<string | null> {
    return this.read(() => {
      const r = this.sql('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined;
      return r?.value ?? null;
    });
  }

  kvSet(key: string, value: string): Promise<void> {
    return this.write(() => {
      this.sql('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(
        key,
        value,
      );
    });
  }

  // ---- runtime plane: log ----

  appendLog(entries: Array<Omit<StoredLogEntry, 'id'>>): Promise<void> {
    return this.write(() => {
      const insert = this.sql(
        `INSERT INTO log (time, phase, level, source, route, actor, event_id, delivery_id, trace_id, message, data)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const e of entries) {
        insert.run(e.time, e.phase, e.level, e.source, e.route, e.actor, e.event_id, e.delivery_id, e.trace_id, e.message, e.data);
      }
    });
  }

  /**
   * With afterId (following with `logs -f`): the entries after it, oldest first, up to limit.
   * Without: the newest `limit` entries matching, returned oldest first for display.
   */
  logs(q: { since?: string; route?: string; trace_id?: string; afterId?: number; limit?: number }): Promise<StoredLogEntry[]> {
    return this.read(() => {
      const { where, args } = conditions([
        ['time >= ?', q.since],
        ['route = ?', q.route],
        ['trace_id = ?', q.trace_id],
        ['id > ?', q.afterId],
      ]);
      if (q.afterId !== undefined) {
        return this.sql(`SELECT * FROM log ${where} ORDER BY id ${limitClause(q.limit)}`).all(...args) as StoredLogEntry[];
      }
      const rows = this.sql(`SELECT * FROM log ${where} ORDER BY id DESC ${limitClause(q.limit)}`).all(
        ...args,
      ) as StoredLogEntry[];
      return rows.reverse();
    });
  }
}

/** WHERE clause from the filters that are set; the SQL text stays stable per filter combination. */
function conditions(filters: Array<[string, string | number | undefined]>): { where: string; args: Array<string | number> } {
  const set = filters.filter((f): f is [string, string | number] => f[1] !== undefined);
  return {
    where: set.length ? `WHERE ${set.map((f) => f[0]).join(' AND ')}` : '',
    args: set.map((f) => f[1]),
  };
}
