// SQLite implementation of the Store (DESIGN §4). better-sqlite3 is synchronous; the async
// methods exist for the Postgres twin. Every write goes through the WriteBatcher (one
// BEGIN IMMEDIATE transaction per event-loop turn); reads run directly against the WAL snapshot.
// Reads and one-statement writes are shared with Postgres (../sql-store.ts); what stays here
// runs several statements in one synchronous transaction.

import type Database from 'better-sqlite3';
import type {
  Delivery,
  IngestItem,
  IngestResult,
  LockInfo,
  NewLogEntry,
  NewVersion,
  PollResult,
  PruneCounts,
  PruneStep,
  StateMeta,
  StateVersionInfo,
  Store,
} from '../store.js';
import { StaleSerialError, checkImportSerial } from '../config-plane.js';
import { leasedRow } from '../leased-row.js';
import { INFO_COLUMNS, versionInfo, versionRowValues } from '../rows.js';
import {
  CLAIM_KEY,
  INSERT_BLOB,
  INSERT_EVENT,
  INSERT_LEASED,
  INSERT_LOCK,
  INSERT_PENDING,
  KEY_OWNER,
  LOCK_HOLDER,
  PRIOR_EVENT,
  PRUNE,
  REPOINT_KEY,
  UPSERT_CURSOR,
  eventValues,
  leasedValues,
  nextTerm,
  pendingValues,
  renameStatements,
} from '../sql.js';
import { SqlStore } from '../sql-store.js';
import type { Steps } from '../inbox.js';
import { WriteBatcher } from './batch.js';
import { connect } from './connect.js';
import { toStoreError } from './errors.js';

export interface SqliteStoreOptions {
  readonly?: boolean;
  /** epoch-ms clock; tests pass a controllable one */
  clock?: () => number;
}

export class SqliteStore extends SqlStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly batch: WriteBatcher;
  private readonly stmts = new Map<string, Database.Statement>();
  private readonly lastPurge = new Map<string, number>();
  private closed = false;

  constructor(location: string, opts: SqliteStoreOptions = {}) {
    super(location, opts.clock ?? Date.now);
    this.db = connect(location, opts.readonly ?? false);
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

  protected rows<T>(text: string, args: readonly unknown[] = []): Promise<T[]> {
    return this.read(() => this.sql(text).all(...args) as T[]);
  }

  protected row<T>(text: string, args: readonly unknown[] = []): Promise<T | undefined> {
    return this.read(() => this.sql(text).get(...args) as T | undefined);
  }

  protected run(text: string, args: readonly unknown[] = []): Promise<number> {
    return this.write(() => this.sql(text).run(...args).changes);
  }

  protected drive<T>(make: () => Steps<T>): Promise<T> {
    return this.write(() => {
      const steps = make();
      let next = steps.next();
      while (!next.done) {
        const s = next.value;
        next = steps.next(s.kind === 'run' ? this.sql(s.sql).run(...s.args).changes : s.kind === 'all' ? this.sql(s.sql).all(...s.args) : undefined);
      }
      return next.value;
    });
  }

  /** Ids are [a-z0-9_], all below DEL, so [prefix, prefix + DEL) is exactly the prefix, and the primary key serves it. */
  protected override prefixMatch(col: string, prefix: string): { sql: string; args: unknown[] } {
    return { sql: `${col} >= ? AND ${col} < ?`, args: [prefix, `${prefix}\x7f`] };
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

  private insertVersion(serial: number, parent: number | null, v: NewVersion): StateVersionInfo {
    const putBlob = this.sql(INSERT_BLOB);
    for (const [sha, text] of Object.entries(v.blobs)) putBlob.run(sha, text);
    const info = versionInfo(serial, parent, v, this.iso());
    this.sql(`INSERT INTO state_versions (${INFO_COLUMNS}, snapshot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      ...versionRowValues(info, v.snapshot),
    );
    return info;
  }

  writeVersion(v: NewVersion): Promise<StateVersionInfo> {
    return this.write(() => {
      const { serial } = this.metaNow();
      if (serial !== v.expectedSerial) throw new StaleSerialError(v.expectedSerial, serial);
      const info = this.insertVersion(serial + 1, serial === 0 ? null : serial, v);
      this.sql('UPDATE state_meta SET serial = ? WHERE id = 1').run(info.serial);
      for (const r of v.runtime_renames ?? []) {
        for (const [text, args] of renameStatements(r)) this.sql(text).run(...args);
      }
      return info;
    });
  }

  importVersion(lineage: string, v: NewVersion & { serial: number }): Promise<StateVersionInfo> {
    return this.write(() => {
      const { serial } = this.metaNow();
      if (serial !== v.expectedSerial) throw new StaleSerialError(v.expectedSerial, serial);
      const { top } = this.sql('SELECT MAX(serial) AS top FROM state_versions').get() as { top: number | null };
      checkImportSerial(v.serial, top);
      const info = this.insertVersion(v.serial, serial === 0 ? null : serial, v);
      // the pushed state's salt comes with it, or its secret hashes would no longer match
      this.sql('UPDATE state_meta SET serial = ?, lineage = ?, secret_salt = COALESCE(?, secret_salt) WHERE id = 1').run(
        info.serial,
        lineage,
        v.secret_salt ?? null,
      );
      return info;
    });
  }

  tryLock(lock: LockInfo): Promise<LockInfo | null> {
    return this.write(() => {
      const r = this.sql(INSERT_LOCK).run(lock.id, lock.operation, lock.who, lock.host, lock.pid, lock.created_at, lock.heartbeat_at);
      return r.changes === 1 ? null : ((this.sql(LOCK_HOLDER).get() as LockInfo | undefined) ?? null);
    });
  }

  // ---- runtime plane: events and deliveries ----

  private ingestNow(items: IngestItem[]): IngestResult[] {
    const now = this.now();
    const ts = this.iso(now);
    const insertEvent = this.sql(INSERT_EVENT);
    const existing = this.sql(PRIOR_EVENT);
    const insertDelivery = this.sql(INSERT_PENDING);
    const insertLeased = this.sql(INSERT_LEASED);
    return items.map(({ event: e, deliveries, leaseTo }) => {
      if (e.dedupe_key !== null && this.sql(CLAIM_KEY).run(e.source, e.dedupe_key, e.id, now).changes === 0) {
        // a duplicate (source, dedupe_key) within the key's horizon
        const owner = this.sql(KEY_OWNER).get(e.source, e.dedupe_key) as { event_id: string };
        return { inserted: false, event_id: owner.event_id };
      }
      const inserted = insertEvent.run(...eventValues(e)).changes === 1;
      if (!inserted) {
        // the same event id delivered again, or an event kept past its key's horizon holds the key
        const prior =
          e.dedupe_key === null ? undefined : (existing.get(e.source, e.dedupe_key) as { id: string } | undefined);
        if (prior) this.sql(REPOINT_KEY).run(prior.id, e.source, e.dedupe_key);
        return { inserted: false, event_id: prior?.id ?? e.id };
      }
      if (!leaseTo) {
        for (const d of deliveries) insertDelivery.run(...pendingValues(d, e.id, now, ts));
        return { inserted: true, event_id: e.id };
      }
      const until = now + leaseTo.leaseMs;
      const leased: Delivery[] = [];
      for (const d of deliveries) {
        if (insertLeased.run(...leasedValues(d, e.id, now, leaseTo.owner, until, ts)).changes === 1) {
          leased.push(leasedRow(d, e.id, leaseTo.owner, now, until, ts));
        }
      }
      return { inserted: true, event_id: e.id, leased };
    });
  }

  ingest(items: IngestItem[]): Promise<IngestResult[]> {
    return this.write(() => this.ingestNow(items));
  }

  commitPoll(source: string, leaseTerm: number, cursor: string | null, etag: string | null, items: IngestItem[]): Promise<PollResult> {
    return this.write(() => {
      const lease = this.sql('SELECT term, expires_at FROM leases WHERE name = ?').get(`source:${source}`) as
        | { term: number; expires_at: number }
        | undefined;
      if (!lease || lease.term !== leaseTerm || lease.expires_at <= this.now()) return { ok: false, results: [] };
      this.sql(UPSERT_CURSOR).run(source, cursor, etag, leaseTerm, this.iso());
      return { ok: true, results: this.ingestNow(items) };
    });
  }

  protected override receivedScan(sources: readonly string[] | null): string {
    // one source: its own slice of the (source, received_at) index (migrations 010, 011)
    return sources?.length === 1 ? 'events INDEXED BY events_match' : 'events INDEXED BY events_received';
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
      for (const d of expired) d.reclaimed = true;
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

  prune(step: PruneStep): Promise<PruneCounts> {
    return this.write(() => {
      const cutoff = this.iso(step.before);
      return {
        deliveries: this.sql(PRUNE.deliveries).run(cutoff, step.limit).changes,
        events: this.sql(PRUNE.events).run(cutoff, step.limit).changes,
        log: this.sql(PRUNE.log).run(cutoff, step.limit).changes,
        dedupe_keys: this.sql(PRUNE.dedupe_keys).run(step.keysBefore, step.limit).changes,
        inbox: this.sql(PRUNE.inbox).run(this.now(), step.limit).changes,
      };
    });
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
      const term = nextTerm(r, holder, now);
      if (term === null) return null;
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

  /** One process per SQLite file in practice: in-process wake-ups are all there is. */
  subscribe(): Promise<boolean> {
    return Promise.resolve(false);
  }

  unsubscribe(): Promise<void> {
    return Promise.resolve();
  }

  // ---- runtime plane: transforms ----

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

  // ---- runtime plane: log ----

  appendLog(entries: NewLogEntry[]): Promise<void> {
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
}
