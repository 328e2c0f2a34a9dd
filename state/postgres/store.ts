// Postgres implementation of the Store, for several executors on several machines. Same
// schema (translated migrations) and same semantics as the SQLite store; concurrency comes
// from row locks: SELECT ... FOR UPDATE SKIP LOCKED for claims, FOR UPDATE / FOR SHARE to
// fence serial and lease checks. Writes run one transaction per call; Postgres does its own
// group commit across connections.

import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { migrations } from '../migrations/index.js';
import type {
  Delivery,
  DeliveryStatus,
  ExecutorInfo,
  IngestItem,
  IngestResult,
  LockInfo,
  NewVersion,
  RuntimeRename,
  StateMeta,
  StateVersion,
  StateVersionInfo,
  Store,
  StoredEvent,
  StoredLogEntry,
} from '../store.js';
import { StaleSerialError, StoreUnavailableError } from '../store.js';
import { redactUrl, toStoreError } from './errors.js';
import { leasedRow } from '../leased-row.js';
import { INFO_COLUMNS, limitClause, toInfo, versionInfo, versionRowValues, type VersionRow } from '../rows.js';

export interface PostgresStoreOptions {
  readonly?: boolean;
  clock?: () => number;
}

const FORMAT_VERSION = 1;
const LATEST = migrations[migrations.length - 1].version;
const INT8_OID = 20;

// BIGINT columns hold epoch milliseconds and counts: well inside Number's exact range
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

type Q = pg.PoolClient | pg.Pool;

/** `?schema=NAME` in the URL selects a schema (created if missing); the rest goes to pg. */
function splitSchema(url: string): { connectionString: string; schema: string | null } {
  const u = new URL(url);
  const schema = u.searchParams.get('schema');
  u.searchParams.delete('schema');
  if (schema !== null && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) {
    throw new StoreUnavailableError(`invalid schema name in state URL: ${schema}`, 'BAD_SCHEMA', redactUrl(url));
  }
  return { connectionString: u.toString(), schema };
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly location: string;
  private readonly now: () => number;
  private readonly lastPurge = new Map<string, number>();

  private constructor(
    private readonly pool: pg.Pool,
    url: string,
    opts: PostgresStoreOptions,
  ) {
    this.location = redactUrl(url);
    this.now = opts.clock ?? Date.now;
  }

  static async open(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const { connectionString, schema } = splitSchema(url);
    // session settings travel in the startup packet, so every pooled connection has them
    const settings: string[] = [];
    if (schema) settings.push(`-c search_path=${schema}`);
    if (opts.readonly) settings.push('-c default_transaction_read_only=on');
    const pool = new pg.Pool({
      connectionString,
      types,
      max: 8,
      connectionTimeoutMillis: 10_000,
      ...(settings.length ? { options: settings.join(' ') } : {}),
    });
    pool.on('error', () => {
      // an idle client died (server restart); the next query reconnects and reports errors itself
    });
    const store = new PostgresStore(pool, url, opts);
    try {
      if (opts.readonly) await store.checkSchema();
      else await store.migrate(schema);
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw toStoreError(e, url);
    }
    return store;
  }

  private async appliedVersion(q: Q): Promise<number> {
    const t = await q.query(`SELECT to_regclass('schema_migrations') AS t`);
    if (t.rows[0].t === null) return 0;
    const r = await q.query('SELECT MAX(version) AS v FROM schema_migrations');
    return (r.rows[0].v as number | null) ?? 0;
  }

  private refuseNewer(v: number): void {
    if (v > LATEST) {
      throw new StoreUnavailableError(
        `state store ${this.location} has schema version ${v}, newer than this orgloop understands (${LATEST}); upgrade orgloop`,
        'SCHEMA_TOO_NEW',
        this.location,
      );
    }
  }

  private async checkSchema(): Promise<void> {
    const v = await this.appliedVersion(this.pool);
    this.refuseNewer(v);
    if (v < LATEST) {
      throw new StoreUnavailableError(
        `state store ${this.location} needs a schema upgrade (version ${v} < ${LATEST}); run any writing command (e.g. orgloop apply) first`,
        'SCHEMA_OUTDATED',
        this.location,
      );
    }
  }

  private async migrate(schema: string | null): Promise<void> {
    await this.tx(async (c) => {
      // serializes concurrent first opens of the same schema
      await c.query(`SELECT pg_advisory_xact_lock(hashtext('orgloop.migrate.' || $1))`, [schema ?? 'public']);
      if (schema) await c.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await c.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
      const current = await this.appliedVersion(c);
      this.refuseNewer(current);
      for (const m of migrations) {
        if (m.version <= current) continue;
        await c.query(m.postgres);
        await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          new Date().toISOString(),
        ]);
      }
      await c.query(
        `INSERT INTO state_meta (id, lineage, serial, format_version, secret_salt) VALUES (1, $1, 0, $2, $3)
         ON CONFLICT (id) DO NOTHING`,
        [randomUUID(), FORMAT_VERSION, randomBytes(32).toString('hex')],
      );
    });
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw toStoreError(e, this.location);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (e) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw toStoreError(e, this.location);
    } finally {
      client.release(broken);
    }
  }

  private async rows<T>(text: string, args: unknown[] = []): Promise<T[]> {
    try {
      return (await this.pool.query(text, args)).rows as T[];
    } catch (e) {
      throw toStoreError(e, this.location);
    }
  }

  private iso(ms = this.now()): string {
    return new Date(ms).toISOString();
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  // ---- config plane ----

  async meta(): Promise<StateMeta> {
    const [m] = await this.rows<StateMeta>('SELECT lineage, serial, format_version, secret_salt FROM state_meta WHERE id = 1');
    return m;
  }

  async current(): Promise<StateVersion | null> {
    const [r] = await this.rows<VersionRow>(
      `SELECT ${INFO_COLUMNS.split(', ').map((c) => `v.${c}`).join(', ')}, v.snapshot
       FROM state_meta m JOIN state_versions v ON v.serial = m.serial WHERE m.id = 1`,
    );
    return r ? { ...toInfo(r), snapshot: JSON.parse(r.snapshot!) as StateVersion['snapshot'] } : null;
  }

  async version(serial: number): Promise<StateVersion | null> {
    const [r] = await this.rows<VersionRow>(`SELECT ${INFO_COLUMNS}, snapshot FROM state_versions WHERE serial = $1`, [serial]);
    return r ? { ...toInfo(r), snapshot: JSON.parse(r.snapshot!) as StateVersion['snapshot'] } : null;
  }

  async versions(): Promise<StateVersionInfo[]> {
    return (await this.rows<VersionRow>(`SELECT ${INFO_COLUMNS} FROM state_versions ORDER BY serial`)).map(toInfo);
  }

  private async insertVersion(c: pg.PoolClient, serial: number, parent: number | null, v: NewVersion): Promise<StateVersionInfo> {
    for (const [sha, text] of Object.entries(v.blobs)) {
      await c.query('INSERT INTO blobs (sha256, text) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING', [sha, text]);
    }
    const info = versionInfo(serial, parent, v, this.iso());
    await c.query(`INSERT INTO state_versions (${INFO_COLUMNS}, snapshot) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, versionRowValues(info, v.snapshot));
    return info;
  }

  private async lockedSerial(c: pg.PoolClient): Promise<number> {
    const r = await c.query('SELECT serial FROM state_meta WHERE id = 1 FOR UPDATE');
    return r.rows[0].serial as number;
  }

  writeVersion(v: NewVersion): Promise<StateVersionInfo> {
    return this.tx(async (c) => {
      const serial = await this.lockedSerial(c);
      if (serial !== v.expectedSerial) throw new StaleSerialError(v.expectedSerial, serial);
      const info = await this.insertVersion(c, serial + 1, serial === 0 ? null : serial, v);
      await c.query('UPDATE state_meta SET serial = $1 WHERE id = 1', [info.serial]);
      for (const r of v.runtime_renames ?? []) await this.renameRuntime(c, r);
      return info;
    });
  }

  /** Re-keys runtime rows for `state mv` (inside writeVersion's transaction), as in the SQLite store. */
  private async renameRuntime(c: pg.PoolClient, r: RuntimeRename): Promise<void> {
    if (r.kind === 'source') {
      await c.query('UPDATE cursors SET source = $1 WHERE source = $2', [r.to, r.from]);
      await c.query("UPDATE events SET source = $1 WHERE source = $2 AND type <> 'actor.stopped'", [r.to, r.from]);
    } else if (r.kind === 'route') {
      await c.query('UPDATE deliveries SET route = $1 WHERE route = $2', [r.to, r.from]);
    } else {
      await c.query('UPDATE deliveries SET actor = $1 WHERE actor = $2', [r.to, r.from]);
      await c.query("UPDATE events SET source = $1 WHERE source = $2 AND type = 'actor.stopped'", [r.to, r.from]);
    }
  }

  importVersion(lineage: string, v: NewVersion & { serial: number }): Promise<StateVersionInfo> {
    return this.tx(async (c) => {
      const serial = await this.lockedSerial(c);
      if (serial !== v.expectedSerial) throw new StaleSerialError(v.expectedSerial, serial);
      const top = (await c.query('SELECT MAX(serial) AS top FROM state_versions')).rows[0].top as number | null;
      if (top !== null && v.serial <= top) {
        throw new Error(
          `cannot import serial ${v.serial}: this store already holds versions up to ${top}; the imported serial must be higher`,
        );
      }
      const info = await this.insertVersion(c, v.serial, serial === 0 ? null : serial, v);
      // the pushed state's salt comes with it, or its secret hashes would no longer match
      await c.query('UPDATE state_meta SET serial = $1, lineage = $2, secret_salt = COALESCE($3, secret_salt) WHERE id = 1', [
        info.serial,
        lineage,
        v.secret_salt ?? null,
      ]);
      return info;
    });
  }

  async blob(sha256: string): Promise<string | null> {
    const [r] = await this.rows<{ text: string }>('SELECT text FROM blobs WHERE sha256 = $1', [sha256]);
    return r?.text ?? null;
  }

  async tryLock(lock: LockInfo): Promise<LockInfo | null> {
    return this.tx(async (c) => {
      const r = await c.query(
        `INSERT INTO locks (singleton, id, operation, who, host, pid, created_at, heartbeat_at)
         VALUES (1, $1, $2, $3, $4, $5, $6, $7) ON CONFLICT (singleton) DO NOTHING`,
        [lock.id, lock.operation, lock.who, lock.host, lock.pid, lock.created_at, lock.heartbeat_at],
      );
      if (r.rowCount === 1) return null;
      const h = await c.query('SELECT id, operation, who, host, pid, created_at, heartbeat_at FROM locks WHERE singleton = 1');
      return (h.rows[0] as LockInfo | undefined) ?? null;
    });
  }

  async heartbeatLock(id: string): Promise<void> {
    await this.rows('UPDATE locks SET heartbeat_at = $1 WHERE id = $2', [this.iso(), id]);
  }

  async unlock(id: string): Promise<boolean> {
    return this.tx(async (c) => (await c.query('DELETE FROM locks WHERE id = $1', [id])).rowCount === 1);
  }

  async lockHolder(): Promise<LockInfo | null> {
    const [r] = await this.rows<LockInfo>('SELECT id, operation, who, host, pid, created_at, heartbeat_at FROM locks WHERE singleton = 1');
    return r ?? null;
  }

  // ---- runtime plane: events and deliveries ----

  private async ingestIn(c: pg.PoolClient, items: IngestItem[]): Promise<IngestResult[]> {
    const now = this.now();
    const ts = this.iso(now);
    const out: IngestResult[] = [];
    for (const { event: e, deliveries, leaseTo } of items) {
      const r = await c.query(
        `INSERT INTO events (id, source, type, dedupe_key, payload, trace_id, parent_id, hops, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
        [e.id, e.source, e.type, e.dedupe_key, e.payload, e.trace_id, e.parent_id, e.hops, e.received_at],
      );
      if (r.rowCount !== 1) {
        const prior =
          e.dedupe_key === null
            ? undefined
            : ((await c.query('SELECT id FROM events WHERE source = $1 AND dedupe_key = $2', [e.source, e.dedupe_key]))
                .rows[0] as { id: string } | undefined);
        out.push({ inserted: false, event_id: prior?.id ?? e.id });
        continue;
      }
      if (!leaseTo) {
        for (const d of deliveries) {
          await c.query(
            `INSERT INTO deliveries (id, event_id, route, actor, state_serial, status, attempts, run_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, $7) ON CONFLICT DO NOTHING`,
            [d.id, e.id, d.route, d.actor, d.state_serial, now, ts],
          );
        }
        out.push({ inserted: true, event_id: e.id });
        continue;
      }
      const until = now + leaseTo.leaseMs;
      const leased: Delivery[] = [];
      for (const d of deliveries) {
        const r = await c.query(
          `INSERT INTO deliveries (id, event_id, route, actor, state_serial, status, attempts, run_at, lease_owner, lease_until, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, 'leased', 1, $6, $7, $8, $9, $9) ON CONFLICT DO NOTHING`,
          [d.id, e.id, d.route, d.actor, d.state_serial, now, leaseTo.owner, until, ts],
        );
        if (r.rowCount === 1) leased.push(leasedRow(d, e.id, leaseTo.owner, now, until, ts));
      }
      out.push({ inserted: true, event_id: e.id, leased });
    }
    return out;
  }

  ingest(items: IngestItem[]): Promise<IngestResult[]> {
    return this.tx((c) => this.ingestIn(c, items));
  }

  commitPoll(
    source: string,
    leaseTerm: number,
    cursor: string | null,
    etag: string | null,
    items: IngestItem[],
  ): Promise<{ ok: boolean; results: IngestResult[] }> {
    return this.tx(async (c) => {
      // FOR SHARE: a takeover of the lease waits until this commit is done
      const lease = (await c.query('SELECT term, expires_at FROM leases WHERE name = $1 FOR SHARE', [`source:${source}`]))
        .rows[0] as { term: number; expires_at: number } | undefined;
      if (!lease || lease.term !== leaseTerm || lease.expires_at <= this.now()) return { ok: false, results: [] };
      await c.query(
        `INSERT INTO cursors (source, cursor, etag, lease_term, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, etag = excluded.etag,
           lease_term = excluded.lease_term, updated_at = excluded.updated_at`,
        [source, cursor, etag, leaseTerm, this.iso()],
      );
      return { ok: true, results: await this.ingestIn(c, items) };
    });
  }

  async cursor(source: string): Promise<{ cursor: string | null; etag: string | null; updated_at: string } | null> {
    const [r] = await this.rows<{ cursor: string | null; etag: string | null; updated_at: string }>(
      'SELECT cursor, etag, updated_at FROM cursors WHERE source = $1',
      [source],
    );
    return r ?? null;
  }

  claim(owner: string, limit: number, leaseMs: number, now?: number): Promise<Delivery[]> {
    return this.tx(async (c) => {
      const t = now ?? this.now();
      const set = `SET status = 'leased', lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3`;
      const expired = (
        await c.query(
          `UPDATE deliveries ${set} WHERE id IN (
             SELECT id FROM deliveries WHERE status = 'leased' AND lease_until < $4
             ORDER BY lease_until LIMIT $5 FOR UPDATE SKIP LOCKED) RETURNING *`,
          [owner, t + leaseMs, this.iso(t), t, limit],
        )
      ).rows as Delivery[];
      if (expired.length >= limit) return expired;
      const due = (
        await c.query(
          `UPDATE deliveries ${set} WHERE id IN (
             SELECT id FROM deliveries WHERE status IN ('pending', 'retry') AND run_at <= $4
             ORDER BY run_at LIMIT $5 FOR UPDATE SKIP LOCKED) RETURNING *`,
          [owner, t + leaseMs, this.iso(t), t, limit - expired.length],
        )
      ).rows as Delivery[];
      return expired.concat(due.sort((a, b) => a.run_at - b.run_at));
    });
  }

  async claimable(now?: number): Promise<boolean> {
    const t = now ?? this.now();
    const [r] = await this.rows<{ any: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM deliveries WHERE status = 'leased' AND lease_until < $1)
           OR EXISTS (SELECT 1 FROM deliveries WHERE status IN ('pending', 'retry') AND run_at <= $1) AS any`,
      [t],
    );
    return r?.any === true;
  }

  extendLeases(owner: string, ids: string[], leaseMs: number): Promise<string[]> {
    return this.tx(async (c) => {
      const r = await c.query(
        `UPDATE deliveries SET lease_until = $1, updated_at = $2
         WHERE id = ANY($3::text[]) AND lease_owner = $4 AND status = 'leased' RETURNING id`,
        [this.now() + leaseMs, this.iso(), ids, owner],
      );
      const held = new Set(r.rows.map((x: { id: string }) => x.id));
      return ids.filter((id) => !held.has(id));
    });
  }

  private async changed(text: string, args: unknown[]): Promise<number> {
    try {
      return (await this.pool.query(text, args)).rowCount ?? 0;
    } catch (e) {
      throw toStoreError(e, this.location);
    }
  }

  async complete(id: string, owner: string): Promise<boolean> {
    return (
      (await this.changed(
        `UPDATE deliveries SET status = 'delivered', lease_until = NULL, last_error = NULL, updated_at = $1
         WHERE id = $2 AND lease_owner = $3 AND status = 'leased'`,
        [this.iso(), id, owner],
      )) === 1
    );
  }

  async fail(id: string, owner: string, error: string, next: { runAt: number } | 'dead'): Promise<boolean> {
    const fenced = `WHERE id = $3 AND lease_owner = $4 AND status = 'leased'`;
    const n =
      next === 'dead'
        ? await this.changed(
            `UPDATE deliveries SET status = 'dead', lease_until = NULL, last_error = $1, updated_at = $2 ${fenced}`,
            [error, this.iso(), id, owner],
          )
        : await this.changed(
            `UPDATE deliveries SET status = 'retry', run_at = $5, lease_until = NULL, last_error = $1, updated_at = $2 ${fenced}`,
            [error, this.iso(), id, owner, next.runAt],
          );
    return n === 1;
  }

  async cancel(id: string, reason: string): Promise<boolean> {
    return (
      (await this.changed(
        `UPDATE deliveries SET status = 'cancelled', lease_until = NULL, last_error = $1, updated_at = $2
         WHERE id = $3 AND status IN ('pending', 'retry', 'leased')`,
        [reason, this.iso(), id],
      )) === 1
    );
  }

  releaseAll(owner: string): Promise<number> {
    const now = this.now();
    return this.changed(
      `UPDATE deliveries SET status = 'pending', run_at = $1, lease_owner = NULL, lease_until = NULL, updated_at = $2
       WHERE lease_owner = $3 AND status = 'leased'`,
      [now, this.iso(now), owner],
    );
  }

  async redrive(id: string): Promise<boolean> {
    const now = this.now();
    return (
      (await this.changed(
        `UPDATE deliveries SET status = 'pending', attempts = 0, run_at = $1, lease_owner = NULL, lease_until = NULL,
           updated_at = $2 WHERE id = $3 AND status IN ('dead', 'cancelled')`,
        [now, this.iso(now), id],
      )) === 1
    );
  }

  async delivery(id: string): Promise<Delivery | null> {
    const [r] = await this.rows<Delivery>('SELECT * FROM deliveries WHERE id = $1', [id]);
    return r ?? null;
  }

  deliveries(q: { status?: DeliveryStatus; route?: string; event_id?: string; limit?: number }): Promise<Delivery[]> {
    const { where, args } = conditions([
      ['status', '=', q.status],
      ['route', '=', q.route],
      ['event_id', '=', q.event_id],
    ]);
    return this.rows<Delivery>(`SELECT * FROM deliveries ${where} ORDER BY created_at DESC, id ${limitClause(q.limit)}`, args);
  }

  async event(id: string): Promise<StoredEvent | null> {
    const [r] = await this.rows<StoredEvent>('SELECT * FROM events WHERE id = $1', [id]);
    return r ?? null;
  }

  events(q: { source?: string; type?: string; trace_id?: string; limit?: number }): Promise<StoredEvent[]> {
    const { where, args } = conditions([
      ['source', '=', q.source],
      ['type', '=', q.type],
      ['trace_id', '=', q.trace_id],
    ]);
    return this.rows<StoredEvent>(`SELECT * FROM events ${where} ORDER BY received_at DESC, id ${limitClause(q.limit)}`, args);
  }

  deliveryCounts(): Promise<Array<{ route: string; status: DeliveryStatus; count: number; oldest_run_at: number | null }>> {
    return this.rows(
      `SELECT route, status, COUNT(*) AS count, MIN(run_at) AS oldest_run_at
       FROM deliveries GROUP BY route, status ORDER BY route, status`,
    );
  }

  // ---- runtime plane: coordination ----

  acquireLease(name: string, holder: string, ttlMs: number): Promise<number | null> {
    return this.tx(async (c) => {
      const now = this.now();
      const fresh = await c.query(
        'INSERT INTO leases (name, holder, term, expires_at) VALUES ($1, $2, 1, $3) ON CONFLICT (name) DO NOTHING',
        [name, holder, now + ttlMs],
      );
      if (fresh.rowCount === 1) return 1;
      const r = (await c.query('SELECT holder, term, expires_at FROM leases WHERE name = $1 FOR UPDATE', [name])).rows[0] as {
        holder: string;
        term: number;
        expires_at: number;
      };
      const live = r.expires_at > now;
      if (live && r.holder !== holder) return null;
      // see the SQLite store: a new tenure always bumps the term
      const term = live ? r.term : r.term + 1;
      await c.query('UPDATE leases SET holder = $1, term = $2, expires_at = $3 WHERE name = $4', [holder, term, now + ttlMs, name]);
      return term;
    });
  }

  async renewLeases(holder: string, leases: Array<{ name: string; term: number }>, ttlMs: number): Promise<string[]> {
    if (leases.length === 0) return [];
    const now = this.now();
    try {
      const r = await this.pool.query(
        `UPDATE leases l SET expires_at = $1 FROM unnest($2::text[], $3::bigint[]) AS u(name, term)
         WHERE l.name = u.name AND l.term = u.term AND l.holder = $4 AND l.expires_at > $5 RETURNING l.name`,
        [now + ttlMs, leases.map((l) => l.name), leases.map((l) => l.term), holder, now],
      );
      const held = new Set(r.rows.map((x: { name: string }) => x.name));
      return leases.filter((l) => !held.has(l.name)).map((l) => l.name);
    } catch (e) {
      throw toStoreError(e, this.location);
    }
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.changed('UPDATE leases SET expires_at = 0 WHERE name = $1 AND holder = $2', [name, holder]);
  }

  async heartbeatExecutor(info: ExecutorInfo): Promise<void> {
    await this.changed(
      `INSERT INTO executors (id, host, pid, serial_loaded, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid,
         serial_loaded = excluded.serial_loaded, heartbeat_at = excluded.heartbeat_at`,
      [info.id, info.host, info.pid, info.serial_loaded, info.started_at, info.heartbeat_at],
    );
  }

  async removeExecutor(id: string): Promise<void> {
    await this.changed('DELETE FROM executors WHERE id = $1', [id]);
  }

  executors(): Promise<ExecutorInfo[]> {
    return this.rows<ExecutorInfo>('SELECT * FROM executors ORDER BY started_at, id');
  }

  // ---- runtime plane: transforms and cron ----

  seen(scope: string, key: string, windowMs: number): Promise<boolean> {
    return this.tx(async (c) => {
      const now = this.now();
      const first = await c.query(
        'INSERT INTO dedup_seen (scope, key, seen_at) VALUES ($1, $2, $3) ON CONFLICT (scope, key) DO NOTHING',
        [scope, key, now],
      );
      if (first.rowCount === 1) return false;
      const r = (await c.query('SELECT seen_at FROM dedup_seen WHERE scope = $1 AND key = $2 FOR UPDATE', [scope, key]))
        .rows[0] as { seen_at: number };
      // the window runs from the first accepted sighting; a duplicate does not extend it
      if (r.seen_at > now - windowMs) return true;
      await c.query('UPDATE dedup_seen SET seen_at = $3 WHERE scope = $1 AND key = $2', [scope, key, now]);
      // about once per window per scope, drop rows that can never match again
      const last = this.lastPurge.get(scope);
      if (last === undefined || now - last >= windowMs) {
        this.lastPurge.set(scope, now);
        await c.query('DELETE FROM dedup_seen WHERE scope = $1 AND seen_at <= $2', [scope, now - windowMs]);
      }
      return false;
    });
  }

  async kvGet(key: string): Promise<string | null> {
    const [r] = await this.rows<{ value: string }>('SELECT value FROM kv WHERE key = $1', [key]);
    return r?.value ?? null;
  }

  async kvSet(key: string, value: string): Promise<void> {
    await this.changed('INSERT INTO kv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [
      key,
      value,
    ]);
  }

  // ---- runtime plane: log ----

  async appendLog(entries: Array<Omit<StoredLogEntry, 'id'>>): Promise<void> {
    if (entries.length === 0) return;
    const cols = ['time', 'phase', 'level', 'source', 'route', 'actor', 'event_id', 'delivery_id', 'trace_id', 'message', 'data'] as const;
    const args: unknown[] = [];
    const values = entries.map((e) => `(${cols.map((col) => `$${args.push(e[col])}`).join(', ')})`);
    await this.changed(`INSERT INTO log (${cols.join(', ')}) VALUES ${values.join(', ')}`, args);
  }

  /** Same paging as the SQLite store: afterId follows oldest-first; otherwise the newest `limit`. */
  async logs(q: { since?: string; route?: string; trace_id?: string; afterId?: number; limit?: number }): Promise<StoredLogEntry[]> {
    const { where, args } = conditions([
      ['time', '>=', q.since],
      ['route', '=', q.route],
      ['trace_id', '=', q.trace_id],
      ['id', '>', q.afterId],
    ]);
    if (q.afterId !== undefined) {
      return this.rows<StoredLogEntry>(`SELECT * FROM log ${where} ORDER BY id ${limitClause(q.limit)}`, args);
    }
    const rows = await this.rows<StoredLogEntry>(`SELECT * FROM log ${where} ORDER BY id DESC ${limitClause(q.limit)}`, args);
    return rows.reverse();
  }
}

function conditions(filters: Array<[string, string, string | number | undefined]>): { where: string; args: Array<string | number> } {
  const args: Array<string | number> = [];
  const terms: string[] = [];
  for (const [col, op, v] of filters) {
    if (v === undefined) continue;
    args.push(v);
    terms.push(`${col} ${op} $${args.length}`);
  }
  return { where: terms.length ? `WHERE ${terms.join(' AND ')}` : '', args };
}
