// Postgres implementation of the Store, for several executors on several machines. Same
// schema (translated migrations) and same semantics as the SQLite store; concurrency comes
// from row locks: SELECT ... FOR UPDATE SKIP LOCKED for claims, FOR UPDATE / FOR SHARE to
// fence serial and lease checks. Reads and one-statement writes are shared with SQLite
// (../sql-store.ts); multi-statement writes run here, one transaction per call.

import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { migrations } from '../migrations/index.js';
import type {
  Beat,
  Delivery,
  ExecutorInfo,
  IngestItem,
  IngestResult,
  LockInfo,
  NewLogEntry,
  NewVersion,
  PollResult,
  PruneCounts,
  PruneStep,
  WakeHandlers,
  StateVersionInfo,
  Store,
  StoredEvent,
} from '../store.js';
import { StoreUnavailableError } from '../store.js';
import { StaleSerialError, checkImportSerial } from '../config-plane.js';
import { redactUrl, toStoreError } from './errors.js';
import { leasedRow } from '../leased-row.js';
import { INFO_COLUMNS, versionInfo, versionRowValues } from '../rows.js';
import {
  CLAIM_KEY,
  INSERT_BLOB,
  EVENT_COLUMNS,
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
  pendingValues,
  renameStatements,
} from '../sql.js';
import { SqlStore } from '../sql-store.js';
import { TurnBatch } from './batch.js';
import { checkout, type Held } from './checkout.js';
import { WORK_CHANNEL, ingestBatch } from './ingest.js';
import type { Steps } from '../inbox.js';
import { LIST_PARTITIONS, type Partition, maintainLogPartitions, planPartitions } from './log-partitions.js';
import { APPLY_CHANNEL, Listener, sessionName } from './listen.js';

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
export function splitSchema(url: string): { connectionString: string; schema: string | null } {
  const u = new URL(url);
  const schema = u.searchParams.get('schema');
  u.searchParams.delete('schema');
  if (schema !== null && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) {
    throw new StoreUnavailableError(`invalid schema name in state URL: ${schema}`, 'BAD_SCHEMA', redactUrl(url));
  }
  return { connectionString: u.toString(), schema };
}

/*
 * The hot statements (the ingest batch, claims, completion batches, event reads) are named, so
 * each pooled connection parses them once and keeps them prepared instead of parsing and planning
 * them on every call: that halved Postgres' CPU for a claim and its completion (0.73 against
 * 1.5-2.0 ms per ten deliveries). Behind pgbouncer in transaction mode this needs pgbouncer 1.21
 * or later with max_prepared_statements set (docs/scale.md).
 */

/**
 * What a claim returns of each delivery, named rather than `d.*`: Postgres refuses to run a
 * prepared statement whose result columns changed since it was prepared, as a migration adding
 * a column would make them.
 */
const CLAIMED_COLUMNS = ['id', 'event_id', 'route', 'actor', 'state_serial', 'status', 'attempts', 'run_at', 'lease_owner', 'lease_until', 'last_error', 'created_at', 'updated_at']
  .map((c) => `d.${c}`)
  .join(', ');

/**
 * Bodies up to this size come back with the claim (one round trip, no read per batch); larger
 * ones are read when their delivery runs, within the executor's event memory budget, so that a
 * claim of many large events does not pull them all into memory at once.
 */
const CLAIM_BODY_MAX = 64 * 1024;

/** A registered executor missing this long from its heartbeats is taken for dead (a host cut off). */
const EXECUTOR_STALE_MS = 30_000;

/**
 * Executors whose leases are abandoned: registered with a session (subscribe) that is no longer
 * connected, or silent past EXECUTOR_STALE_MS; `staleParam` is the cutoff's placeholder (ISO text).
 */
const abandoned = (staleParam: string) => `SELECT e.id FROM executors e WHERE e.session IS NOT NULL AND (e.heartbeat_at < ${staleParam}
  OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.application_name = e.session))`;

/** Whether a claim would find anything: abandoned or expired leases, or due work. */
const claimableSql = (nowParam: string, staleParam: string) =>
  `(EXISTS (SELECT 1 FROM deliveries WHERE status = 'leased' AND (lease_until < ${nowParam} OR lease_owner IN (${abandoned(staleParam)})))
    OR EXISTS (SELECT 1 FROM deliveries WHERE status IN ('pending', 'retry') AND run_at <= ${nowParam}))`;

/**
 * Whether a prune step would find anything (one probe per kind, through the indexes the deletes
 * use); `?` 1 is the cutoff, 2 the dedupe keys' cutoff.
 */
const PRUNE_DUE = {
  deliveries: `SELECT 1 FROM deliveries WHERE status IN ('delivered', 'dead', 'cancelled') AND updated_at < $1`,
  events: `SELECT 1 FROM events e WHERE received_at < $1 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id)`,
  dedupe_keys: 'SELECT 1 FROM dedupe_keys WHERE seen_at < $2',
  log: 'SELECT 1 FROM log WHERE time < $1',
  inbox: 'SELECT 1 FROM inbox_entries WHERE expires_at <= $3',
} as const;

/**
 * CTEs that move the delivery counters of connections that are gone into shard 0 (migration 010): rows
 * locked by a live writer are skipped, and only folders write shard 0, in route order, so a
 * fold never waits for a writer and two folds never deadlock.
 */
const FOLD_COUNTS = `gone AS (
    DELETE FROM delivery_counts WHERE (route, status, shard) IN (
      SELECT route, status, shard FROM delivery_counts
      WHERE shard <> 0 AND shard NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL)
      FOR UPDATE SKIP LOCKED)
    RETURNING route, status, count
  ), folded AS (
    INSERT INTO delivery_counts AS c (route, status, shard, count)
    SELECT route, status, 0, SUM(count) FROM gone GROUP BY route, status ORDER BY route, status
    ON CONFLICT (route, status, shard) DO UPDATE SET count = c.count + excluded.count
  )`;

/** `?` placeholders numbered for Postgres ($1, $2, ...), once per SQL text. */
const numbered = new Map<string, string>();
export function pgText(text: string): string {
  let t = numbered.get(text);
  if (t === undefined) {
    let i = 0;
    t = text.replace(/\?/g, () => `$${++i}`);
    // texts vary with LIMIT n and multi-row inserts: keep the cache bounded
    if (numbered.size >= 1000) numbered.clear();
    numbered.set(text, t);
  }
  return t;
}

export class PostgresStore extends SqlStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly lastPurge = new Map<string, number>();
  /** when the log's partitions were last looked after, and for which cutoff (see prune) */
  private partitionsCheckedAt = -Infinity;
  private partitionsCutoff = -Infinity;
  private mixedLogParts: string[] = [];
  private connection: { connectionString: string; schema: string } | null = null;
  private listener: Listener | null = null;
  /** the subscriber's handlers: this store's own work notifications wake it in-process (workQueued) */
  private wakeHandlers: WakeHandlers | null = null;
  /** backend pids of this store's pool, whose notifications the listener drops (see workQueued) */
  private readonly backends = new Set<number>();
  /** the ingest calls of one event-loop turn, as one statement */
  private readonly ingests = new TurnBatch<IngestItem[], IngestResult[]>(
    (calls) => this.ingestAll(calls),
    (items) => this.tx((c) => this.ingestIn(c, items)),
    (e) => e instanceof StoreUnavailableError,
  );
  /** the completions of one event-loop turn, as one statement */
  private readonly completions = new TurnBatch<{ id: string; owner: string }, boolean>(
    (calls) => this.completeAll(calls),
    (c) => super.complete(c.id, c.owner),
    (e) => e instanceof StoreUnavailableError,
  );

  /**
   * The event reads of one event-loop turn, as one statement: the deliveries of a claimed batch
   * each read their event's body as they start, all in the same turn.
   */
  private readonly eventReads = new TurnBatch<string, StoredEvent | null>(
    (ids) => this.eventsById(ids),
    (id) => super.event(id),
    (e) => e instanceof StoreUnavailableError,
  );

  private constructor(
    private readonly pool: pg.Pool,
    url: string,
    opts: PostgresStoreOptions,
  ) {
    super(redactUrl(url), opts.clock ?? Date.now);
    const pid = (c: pg.PoolClient) => (c as unknown as { processID: number | null }).processID;
    pool.on('connect', (c) => {
      const p = pid(c);
      if (p !== null) this.backends.add(p);
    });
    pool.on('remove', (c) => {
      const p = pid(c);
      if (p !== null) this.backends.delete(p);
    });
  }

  /**
   * This store queued work and notified the executors listening (committed): its own executor is
   * woken here rather than by the notification coming back through its listener, which drops it.
   */
  private workQueued(): void {
    this.wakeHandlers?.work();
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
      // which process holds a connection, in pg_stat_activity (the LISTEN session names the executor)
      application_name: `orgloop:pid-${process.pid}`,
      max: 8,
      connectionTimeoutMillis: 10_000,
      ...(settings.length ? { options: settings.join(' ') } : {}),
    });
    pool.on('error', () => {
      // an idle client died (server restart); the next query reconnects and reports errors itself
    });
    const store = new PostgresStore(pool, url, opts);
    store.connection = { connectionString, schema: schema ?? 'public' };
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
    let held: Held;
    try {
      held = await checkout(this.pool);
    } catch (e) {
      throw toStoreError(e, this.location);
    }
    const { client } = held;
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (e) {
      if (!held.broken) {
        try {
          await client.query('ROLLBACK');
        } catch {
          held.broken = true;
        }
      }
      throw toStoreError(e, this.location);
    } finally {
      held.release();
    }
  }

  protected async drive<T>(make: () => Steps<T>): Promise<T> {
    let woke = false;
    const out = await this.tx(async (c) => {
      const steps = make();
      let next = steps.next();
      while (!next.done) {
        const s = next.value;
        let result: unknown;
        if (s.kind === 'wake') {
          await c.query(`SELECT pg_notify('${WORK_CHANNEL}', current_schema())`);
          woke = true;
        } else {
          const r = await c.query(pgText(s.sql), s.args);
          result = s.kind === 'run' ? (r.rowCount ?? 0) : r.rows;
        }
        next = steps.next(result);
      }
      return next.value;
    });
    if (woke) this.workQueued();
    return out;
  }

  protected async rows<T>(text: string, args: readonly unknown[] = []): Promise<T[]> {
    try {
      return (await this.pool.query(pgText(text), args as unknown[])).rows as T[];
    } catch (e) {
      throw toStoreError(e, this.location);
    }
  }

  protected async row<T>(text: string, args: readonly unknown[] = []): Promise<T | undefined> {
    return (await this.rows<T>(text, args))[0];
  }

  protected async run(text: string, args: readonly unknown[] = []): Promise<number> {
    try {
      return (await this.pool.query(pgText(text), args as unknown[])).rowCount ?? 0;
    } catch (e) {
      throw toStoreError(e, this.location);
    }
  }

  override async addDeliveries(rows: Parameters<SqlStore['addDeliveries']>[0]): Promise<number> {
    const added = await super.addDeliveries(rows);
    // wake the executors listening for work, as ingest does
    if (added > 0) {
      await this.run(`SELECT pg_notify('${WORK_CHANNEL}', current_schema())`);
      this.workQueued();
    }
    return added;
  }

  async close(): Promise<void> {
    await this.unsubscribe();
    await this.pool.end();
  }

  async subscribe(executorId: string, on: WakeHandlers): Promise<boolean> {
    if (!this.connection || this.listener) return this.listener !== null;
    const session = sessionName(executorId);
    const l = new Listener({ connectionString: this.connection.connectionString }, this.connection.schema, session, on, (p) => this.backends.has(p));
    try {
      await l.start();
    } catch (e) {
      await l.stop();
      throw toStoreError(e, this.location);
    }
    this.listener = l;
    this.wakeHandlers = on;
    // from now on, this executor's leases are abandoned as soon as its session is gone
    await this.run('UPDATE executors SET session = ? WHERE id = ?', [session, executorId]);
    return true;
  }

  async unsubscribe(): Promise<void> {
    const l = this.listener;
    this.listener = null;
    this.wakeHandlers = null;
    await l?.stop();
  }

  // ---- config plane ----

  private async insertVersion(c: pg.PoolClient, serial: number, parent: number | null, v: NewVersion): Promise<StateVersionInfo> {
    for (const [sha, text] of Object.entries(v.blobs)) await c.query(pgText(INSERT_BLOB), [sha, text]);
    const info = versionInfo(serial, parent, v, this.iso());
    await c.query(
      pgText(`INSERT INTO state_versions (${INFO_COLUMNS}, snapshot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      versionRowValues(info, v.snapshot),
    );
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
      for (const r of v.runtime_renames ?? []) {
        for (const [text, args] of renameStatements(r)) await c.query(pgText(text), args);
      }
      await this.notifyApply(c);
      return info;
    });
  }

  importVersion(lineage: string, v: NewVersion & { serial: number }): Promise<StateVersionInfo> {
    return this.tx(async (c) => {
      const serial = await this.lockedSerial(c);
      if (serial !== v.expectedSerial) throw new StaleSerialError(v.expectedSerial, serial);
      checkImportSerial(v.serial, (await c.query('SELECT MAX(serial) AS top FROM state_versions')).rows[0].top as number | null);
      const info = await this.insertVersion(c, v.serial, serial === 0 ? null : serial, v);
      // the pushed state's salt comes with it, or its secret hashes would no longer match
      await c.query('UPDATE state_meta SET serial = $1, lineage = $2, secret_salt = COALESCE($3, secret_salt) WHERE id = 1', [
        info.serial,
        lineage,
        v.secret_salt ?? null,
      ]);
      await this.notifyApply(c);
      return info;
    });
  }

  /** Running executors swap to the new version at once (delivered on commit). */
  private async notifyApply(c: pg.PoolClient): Promise<void> {
    await c.query(`SELECT pg_notify('${APPLY_CHANNEL}', current_schema())`);
  }

  async tryLock(lock: LockInfo): Promise<LockInfo | null> {
    return this.tx(async (c) => {
      const r = await c.query(pgText(INSERT_LOCK), [lock.id, lock.operation, lock.who, lock.host, lock.pid, lock.created_at, lock.heartbeat_at]);
      if (r.rowCount === 1) return null;
      return ((await c.query(LOCK_HOLDER)).rows[0] as LockInfo | undefined) ?? null;
    });
  }

  // ---- runtime plane: events and deliveries ----

  private async ingestIn(c: pg.PoolClient, items: IngestItem[]): Promise<IngestResult[]> {
    const now = this.now();
    const ts = this.iso(now);
    const out: IngestResult[] = [];
    for (const { event: e, deliveries, leaseTo } of items) {
      if (e.dedupe_key !== null && (await c.query(pgText(CLAIM_KEY), [e.source, e.dedupe_key, e.id, now])).rowCount === 0) {
        const owner = (await c.query(pgText(KEY_OWNER), [e.source, e.dedupe_key])).rows[0] as { event_id: string };
        out.push({ inserted: false, event_id: owner.event_id });
        continue;
      }
      const r = await c.query(pgText(INSERT_EVENT), eventValues(e));
      if (r.rowCount !== 1) {
        // see the SQLite store: the same id again, or an event kept past its key's horizon
        const prior =
          e.dedupe_key === null
            ? undefined
            : ((await c.query(pgText(PRIOR_EVENT), [e.source, e.dedupe_key])).rows[0] as { id: string } | undefined);
        if (prior) await c.query(pgText(REPOINT_KEY), [prior.id, e.source, e.dedupe_key]);
        out.push({ inserted: false, event_id: prior?.id ?? e.id });
        continue;
      }
      if (!leaseTo) {
        for (const d of deliveries) await c.query(pgText(INSERT_PENDING), pendingValues(d, e.id, now, ts));
        out.push({ inserted: true, event_id: e.id });
        continue;
      }
      const until = now + leaseTo.leaseMs;
      const leased: Delivery[] = [];
      for (const d of deliveries) {
        const r = await c.query(pgText(INSERT_LEASED), leasedValues(d, e.id, now, leaseTo.owner, until, ts));
        if (r.rowCount === 1) leased.push(leasedRow(d, e.id, leaseTo.owner, now, until, ts));
      }
      out.push({ inserted: true, event_id: e.id, leased });
    }
    return out;
  }

  ingest(items: IngestItem[]): Promise<IngestResult[]> {
    return items.length === 0 ? Promise.resolve([]) : this.ingests.submit(items);
  }

  private async ingestAll(calls: IngestItem[][]): Promise<IngestResult[][]> {
    const now = this.now();
    let flat: IngestResult[];
    let notified = false;
    try {
      flat = await ingestBatch(this.pool, calls.flat(), now, this.iso(now), {
        owners: async (keys) => {
          const r = await this.pool.query('SELECT source, key, event_id FROM dedupe_keys WHERE (source, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))', [
            keys.map((k) => k[0]),
            keys.map((k) => k[1]),
          ]);
          return new Map((r.rows as Array<{ source: string; key: string; event_id: string }>).map((x) => [`${x.source}\0${x.key}`, x.event_id]));
        },
        conflict: (item) => this.tx(async (c) => (await this.ingestIn(c, [item]))[0]!.event_id),
        notified: () => (notified = true),
      });
    } catch (e) {
      throw toStoreError(e, this.location);
    }
    if (notified) this.workQueued();
    let at = 0;
    return calls.map((items) => flat.slice(at, (at += items.length)));
  }

  override event(id: string): Promise<StoredEvent | null> {
    return this.eventReads.submit(id);
  }

  private async eventsById(ids: string[]): Promise<Array<StoredEvent | null>> {
    let rows: StoredEvent[];
    try {
      rows = (await this.pool.query({ name: 'orgloop_events_by_id', text: `SELECT ${EVENT_COLUMNS} FROM events WHERE id = ANY($1::text[])`, values: [ids] })).rows as StoredEvent[];
    } catch (e) {
      throw toStoreError(e, this.location);
    }
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  override complete(id: string, owner: string): Promise<boolean> {
    return this.completions.submit({ id, owner });
  }

  private async completeAll(calls: Array<{ id: string; owner: string }>): Promise<boolean[]> {
    let r: pg.QueryResult;
    try {
      r = await this.pool.query({
        name: 'orgloop_complete',
        text: `UPDATE deliveries d SET status = 'delivered', lease_until = NULL, last_error = NULL, updated_at = $1
         FROM unnest($2::text[], $3::text[]) AS u(id, owner)
         WHERE d.id = u.id AND d.lease_owner = u.owner AND d.status = 'leased' RETURNING d.id, d.lease_owner`,
        values: [this.iso(), calls.map((c) => c.id), calls.map((c) => c.owner)],
      });
    } catch (e) {
      throw toStoreError(e, this.location);
    }
    const done = new Set((r.rows as Array<{ id: string; lease_owner: string }>).map((x) => `${x.id}\0${x.lease_owner}`));
    return calls.map((c) => done.has(`${c.id}\0${c.owner}`));
  }

  commitPoll(source: string, leaseTerm: number, cursor: string | null, etag: string | null, items: IngestItem[]): Promise<PollResult> {
    return this.tx(async (c) => {
      // FOR SHARE: a takeover of the lease waits until this commit is done
      const lease = (await c.query('SELECT term, expires_at FROM leases WHERE name = $1 FOR SHARE', [`source:${source}`]))
        .rows[0] as { term: number; expires_at: number } | undefined;
      if (!lease || lease.term !== leaseTerm || lease.expires_at <= this.now()) return { ok: false, results: [] };
      await c.query(pgText(UPSERT_CURSOR), [source, cursor, etag, leaseTerm, this.iso()]);
      return { ok: true, results: await this.ingestIn(c, items) };
    });
  }

  /**
   * One statement: leases abandoned first (expired, or held by a registered executor whose session
   * is gone or whose heartbeat is stale: it crashed or was cut off), then due work, each locked
   * with SKIP LOCKED so concurrent claimers take disjoint rows.
   */
  async claim(owner: string, limit: number, leaseMs: number, now?: number): Promise<Delivery[]> {
    const t = now ?? this.now();
    let r: pg.QueryResult;
    try {
      r = await this.pool.query({
        name: 'orgloop_claim',
        text: `WITH x AS (
           SELECT id, 0 AS k, lease_until AS o FROM deliveries
           WHERE status = 'leased' AND (lease_until < $4 OR lease_owner IN (${abandoned('$6')}))
           ORDER BY lease_until LIMIT $5 FOR UPDATE SKIP LOCKED
         ), y AS (
           SELECT id, 1 AS k, run_at AS o FROM deliveries WHERE status IN ('pending', 'retry') AND run_at <= $4
           ORDER BY run_at LIMIT $5 FOR UPDATE SKIP LOCKED
         ), pick AS (
           (SELECT id, k, o FROM x UNION ALL SELECT id, k, o FROM y) LIMIT $5
         )
         UPDATE deliveries d SET status = 'leased', lease_owner = $1, lease_until = $2, attempts = d.attempts + 1, updated_at = $3
         FROM pick WHERE d.id = pick.id
         RETURNING ${CLAIMED_COLUMNS}, pick.k AS pick_k, pick.o AS pick_o,
           (SELECT e.event_json FROM events e WHERE e.id = d.event_id AND octet_length(e.event_json) <= $7) AS pick_body`,
        values: [owner, t + leaseMs, this.iso(t), t, limit, this.iso(t - EXECUTOR_STALE_MS), CLAIM_BODY_MAX],
      });
    } catch (e) {
      throw toStoreError(e, this.location);
    }
    const rows = r.rows as Array<Delivery & { pick_k: number; pick_o: number; pick_body: string | null }>;
    rows.sort((a, b) => a.pick_k - b.pick_k || a.pick_o - b.pick_o);
    return rows.map(({ pick_k: k, pick_o: _o, pick_body: body, ...d }) => {
      const dl: Delivery = k === 0 ? { ...d, reclaimed: true } : d;
      if (body !== null) dl.body = body;
      return dl;
    });
  }

  async claimable(now?: number): Promise<boolean> {
    const t = now ?? this.now();
    const [r] = await this.rows<{ any: boolean }>(`SELECT ${claimableSql('$1', '$2')} AS any`, [t, this.iso(t - EXECUTOR_STALE_MS)]);
    return r?.any === true;
  }

  /** Heartbeat, live peers, claimable work and the applied serial in one statement. */
  override async beat(info: ExecutorInfo, liveWithinMs: number): Promise<Beat> {
    const t = this.now();
    let r: pg.QueryResult;
    try {
      r = await this.pool.query(
        `WITH hb AS (
           INSERT INTO executors (id, host, pid, serial_loaded, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid,
             serial_loaded = excluded.serial_loaded, heartbeat_at = excluded.heartbeat_at
           RETURNING id
         )
         SELECT (SELECT COUNT(*) FROM hb) AS beat,
           (SELECT COUNT(*) FROM executors WHERE id <> $1 AND heartbeat_at >= $7) AS peers,
           (SELECT serial FROM state_meta WHERE id = 1) AS serial,
           ${claimableSql('$8', '$9')} AS claimable`,
        [info.id, info.host, info.pid, info.serial_loaded, info.started_at, info.heartbeat_at, this.iso(t - liveWithinMs), t, this.iso(t - EXECUTOR_STALE_MS)],
      );
    } catch (e) {
      throw toStoreError(e, this.location);
    }
    const row = r.rows[0] as { peers: number; serial: number; claimable: boolean };
    return { peers: row.peers, serial: row.serial, claimable: row.claimable };
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

  /**
   * Deliveries, events, dedupe keys and expired inbox entries in small steps, as on SQLite; the log by whole days
   * (migration 006): at most once a minute, days are created ahead and the days past the
   * retention dropped; only the default partition's stragglers are deleted row by row. A step
   * that finds nothing costs one statement (and, once a minute, one more that also folds the
   * delivery counters of closed connections), so an idle store's pruner is nearly free.
   */
  async prune(step: PruneStep): Promise<PruneCounts> {
    const now = this.now();
    let partitionRows = 0;
    if (now - this.partitionsCheckedAt >= 60_000 || step.before - this.partitionsCutoff >= 60_000) {
      const parts = (await this.rows<Partition>(`WITH ${FOLD_COUNTS} ${LIST_PARTITIONS}`)).map((p) => ({ ...p, rows: Number(p.rows) }));
      const plan = planPartitions(parts, now, step.before);
      let mixed = plan.mixed;
      if (plan.create.length > 0 || plan.drop.length > 0) {
        const changed = await this.tx((c) => maintainLogPartitions(c, now, step.before));
        mixed = changed.mixed;
        partitionRows = changed.droppedRows;
      }
      this.partitionsCheckedAt = now;
      this.partitionsCutoff = step.before;
      this.mixedLogParts = mixed;
    }
    const cutoff = this.iso(step.before);
    const parts = this.mixedLogParts;
    try {
      const [due] = await this.rows<{ deliveries: boolean; events: boolean; dedupe_keys: boolean; log: boolean; inbox: boolean }>(
        `SELECT EXISTS (${PRUNE_DUE.deliveries}) AS deliveries, EXISTS (${PRUNE_DUE.events}) AS events,
          EXISTS (${PRUNE_DUE.dedupe_keys}) AS dedupe_keys, EXISTS (${PRUNE_DUE.inbox}) AS inbox,
          ${parts.length ? parts.map((part) => `EXISTS (${PRUNE_DUE.log.replace(/\blog\b/, part)})`).join(' OR ') : 'false'} AS log`,
        [cutoff, step.keysBefore, now],
      );
      const counts: PruneCounts = { deliveries: 0, events: 0, log: partitionRows, dedupe_keys: 0, inbox: 0 };
      if (!due || !(due.deliveries || due.events || due.dedupe_keys || due.log || due.inbox)) return counts;
      return await this.tx(async (c) => {
        const n = async (text: string, bound: string | number) => (await c.query(pgText(text), [bound, step.limit])).rowCount ?? 0;
        // single days go whole; the rest (history before the upgrade, stragglers) row by row
        if (due.log) for (const part of parts) if (counts.log < step.limit) counts.log += await n(PRUNE.log.replace(/\blog\b/g, part), cutoff);
        if (due.deliveries) counts.deliveries = await n(PRUNE.deliveries, cutoff);
        // events whose last deliveries went just now go in the same step
        if (due.deliveries || due.events) counts.events = await n(PRUNE.events, cutoff);
        if (due.dedupe_keys) counts.dedupe_keys = await n(PRUNE.dedupe_keys, step.keysBefore);
        if (due.inbox) counts.inbox = await n(PRUNE.inbox, now);
        return counts;
      });
    } catch (e) {
      // a partition another executor dropped meanwhile: look at them again next step
      this.partitionsCheckedAt = -Infinity;
      throw e;
    }
  }

  // ---- runtime plane: coordination ----

  /**
   * One statement (nextTerm in SQL): a new lease, a renewal by its holder (same term), or a
   * takeover of an expired one (term + 1); no row back while another holder's lease is live.
   */
  async acquireLease(name: string, holder: string, ttlMs: number): Promise<number | null> {
    const now = this.now();
    try {
      const r = await this.pool.query(
        `INSERT INTO leases AS l (name, holder, term, expires_at) VALUES ($1, $2, 1, $3)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
           term = CASE WHEN l.expires_at > $4 THEN l.term ELSE l.term + 1 END
         WHERE l.expires_at <= $4 OR l.holder = excluded.holder
         RETURNING term`,
        [name, holder, now + ttlMs, now],
      );
      return (r.rows[0] as { term: number } | undefined)?.term ?? null;
    } catch (e) {
      throw toStoreError(e, this.location);
    }
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

  // ---- runtime plane: transforms ----

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

  // ---- runtime plane: log ----

  async appendLog(entries: NewLogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const cols = ['time', 'phase', 'level', 'source', 'route', 'actor', 'event_id', 'delivery_id', 'trace_id', 'message', 'data'] as const;
    const args: unknown[] = [];
    const values = entries.map((e) => `(${cols.map((col) => (args.push(e[col]), '?')).join(', ')})`);
    await this.run(`INSERT INTO log (${cols.join(', ')}) VALUES ${values.join(', ')}`, args);
  }
}
