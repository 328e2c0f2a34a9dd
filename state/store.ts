// The Store: one database, two planes (DESIGN §4).
// Config plane is written only by apply/rollback/import/state edits and bumps the serial.
// Runtime plane is written by the executor and never touches the serial.
// Methods are async so a Postgres backend can implement the same interface.

import type { StateSnapshot } from '../engine/graph/types.js';

export type VersionKind = 'apply' | 'rollback' | 'import' | 'state-edit';

export interface StateMeta {
  lineage: string;
  serial: number; // 0 = nothing applied yet
  format_version: number;
  /** per-lineage salt for secret hashes, so equal values hash equally across plans */
  secret_salt: string;
}

export interface VersionSummary {
  add: number;
  change: number;
  destroy: number;
}

export interface StateVersion {
  serial: number;
  parent_serial: number | null;
  kind: VersionKind;
  created_at: string;
  who: string;
  message: string | null;
  config_digest: string;
  summary: VersionSummary;
  /** for kind=rollback: the serial restored */
  rollback_of?: number | null;
  snapshot: StateSnapshot;
}

export type StateVersionInfo = Omit<StateVersion, 'snapshot'>;

export interface NewVersion {
  /** the serial the writer planned against; the write fails with StaleSerialError if it moved */
  expectedSerial: number;
  kind: VersionKind;
  who: string;
  message: string | null;
  config_digest: string;
  summary: VersionSummary;
  rollback_of?: number | null;
  snapshot: StateSnapshot;
  /** prompt blobs referenced by the snapshot: sha256 -> text */
  blobs: Record<string, string>;
  /**
   * `state mv`: runtime rows to re-key in the same transaction, so a renamed source keeps its
   * cursor and events, a renamed route or actor its deliveries.
   */
  runtime_renames?: RuntimeRename[];
  /**
   * importVersion only (`state push`): the pushed state's secret salt, so the imported secret
   * hashes keep matching the values they were made from.
   */
  secret_salt?: string;
}

export interface RuntimeRename {
  kind: 'source' | 'route' | 'actor';
  from: string;
  to: string;
}

export interface LockInfo {
  id: string;
  operation: string;
  who: string;
  host: string;
  pid: number;
  created_at: string;
  heartbeat_at: string;
}

export class StaleSerialError extends Error {
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`state serial moved from ${expected} to ${actual}`);
  }
}

/**
 * The store cannot be read or written at all (read-only file, disk full, I/O error, lock held
 * too long, unreachable server). Callers answer 5xx / exit 1 and must not acknowledge anything.
 * `code` is the backend's own code, e.g. SQLITE_FULL, SQLITE_READONLY, ECONNREFUSED.
 */
export class StoreUnavailableError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly location: string,
  ) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

// ---- runtime plane ----

export type DeliveryStatus = 'pending' | 'leased' | 'delivered' | 'retry' | 'dead' | 'cancelled';

export interface StoredEvent {
  id: string;
  source: string;
  type: string;
  dedupe_key: string | null;
  /** full OrgEvent JSON */
  payload: string;
  trace_id: string;
  parent_id: string | null;
  hops: number;
  received_at: string;
}

export interface Delivery {
  id: string;
  event_id: string;
  route: string;
  actor: string;
  state_serial: number;
  status: DeliveryStatus;
  attempts: number;
  run_at: number; // epoch ms
  lease_owner: string | null;
  lease_until: number | null; // epoch ms
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface IngestItem {
  event: StoredEvent;
  /** one per matched route */
  deliveries: Array<{ id: string; route: string; actor: string; state_serial: number }>;
  /**
   * Insert the deliveries already leased to `owner` for `leaseMs` (attempts 1), as a claim would
   * leave them, so an executor with free workers runs them at once without a claim. An expired
   * lease is reclaimable as usual, so a crash loses nothing.
   */
  leaseTo?: { owner: string; leaseMs: number };
}

export interface IngestResult {
  /** false when (source, dedupe_key) already existed: nothing was written */
  inserted: boolean;
  event_id: string;
  /** with `leaseTo`, when inserted: the deliveries as stored, leased to the owner */
  leased?: Delivery[];
}

export interface ExecutorInfo {
  id: string;
  host: string;
  pid: number;
  serial_loaded: number;
  started_at: string;
  heartbeat_at: string;
}

export interface StoredLogEntry {
  id: number;
  time: string;
  phase: string;
  level: string;
  source: string | null;
  route: string | null;
  actor: string | null;
  event_id: string | null;
  delivery_id: string | null;
  trace_id: string | null;
  message: string | null;
  data: string | null;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  readonly location: string;
  close(): Promise<void>;

  // config plane
  meta(): Promise<StateMeta>;
  current(): Promise<StateVersion | null>;
  version(serial: number): Promise<StateVersion | null>;
  versions(): Promise<StateVersionInfo[]>;
  /** Writes serial+1 in one transaction; throws StaleSerialError if the serial moved. */
  writeVersion(v: NewVersion): Promise<StateVersionInfo>;
  /** Replace lineage/serial on import (state push --force / fresh store). */
  importVersion(lineage: string, v: NewVersion & { serial: number }): Promise<StateVersionInfo>;
  blob(sha256: string): Promise<string | null>;

  /** Returns null on success, or the current holder. */
  tryLock(lock: LockInfo): Promise<LockInfo | null>;
  heartbeatLock(id: string): Promise<void>;
  unlock(id: string): Promise<boolean>;
  lockHolder(): Promise<LockInfo | null>;

  // runtime plane: events and deliveries
  /** One transaction: each event (deduped on source+dedupe_key) plus its deliveries. */
  ingest(items: IngestItem[]): Promise<IngestResult[]>;
  /** Polling sources: cursor + events + deliveries in one transaction, fenced by lease term. */
  commitPoll(
    source: string,
    leaseTerm: number,
    cursor: string | null,
    etag: string | null,
    items: IngestItem[],
  ): Promise<{ ok: boolean; results: IngestResult[] }>;
  cursor(source: string): Promise<{ cursor: string | null; etag: string | null; updated_at: string } | null>;

  /** Claims up to `limit` due deliveries (pending/retry with run_at<=now, or leased with expired lease). */
  claim(owner: string, limit: number, leaseMs: number, now?: number): Promise<Delivery[]>;
  /** Whether claim() would find anything now: a cheap probe for idle workers' polling. */
  claimable(now?: number): Promise<boolean>;
  /** Extends leases still held by owner; returns ids no longer held. */
  extendLeases(owner: string, ids: string[], leaseMs: number): Promise<string[]>;
  /** Fenced: only the lease holder may complete. Returns false if the lease was lost. */
  complete(id: string, owner: string): Promise<boolean>;
  /** Fenced: schedule a retry at runAt, or mark dead. */
  fail(id: string, owner: string, error: string, next: { runAt: number } | 'dead'): Promise<boolean>;
  cancel(id: string, reason: string): Promise<boolean>;
  /** Release leases held by owner back to pending (graceful shutdown). */
  releaseAll(owner: string): Promise<number>;
  /** dead|cancelled -> pending with attempts reset. */
  redrive(id: string): Promise<boolean>;
  delivery(id: string): Promise<Delivery | null>;
  deliveries(q: { status?: DeliveryStatus; route?: string; event_id?: string; limit?: number }): Promise<Delivery[]>;
  event(id: string): Promise<StoredEvent | null>;
  events(q: { source?: string; type?: string; trace_id?: string; limit?: number }): Promise<StoredEvent[]>;
  deliveryCounts(): Promise<Array<{ route: string; status: DeliveryStatus; count: number; oldest_run_at: number | null }>>;

  // runtime plane: coordination
  /** Acquire or renew a named lease; returns the fencing term or null when another holder has it. */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<number | null>;
  releaseLease(name: string, holder: string): Promise<void>;
  /**
   * Renews, in one transaction, leases `holder` still holds live under the given terms; returns the
   * names it no longer holds (expired, taken over, or a different term). Never starts a tenure.
   */
  renewLeases(holder: string, leases: Array<{ name: string; term: number }>, ttlMs: number): Promise<string[]>;
  heartbeatExecutor(info: ExecutorInfo): Promise<void>;
  removeExecutor(id: string): Promise<void>;
  executors(): Promise<ExecutorInfo[]>;

  // runtime plane: transforms and cron
  /** dedup transform: true if key was seen within windowMs (and records it now). */
  seen(scope: string, key: string, windowMs: number): Promise<boolean>;
  kvGet(key: string): Promise<string | null>;
  kvSet(key: string, value: string): Promise<void>;

  // runtime plane: log
  appendLog(entries: Array<Omit<StoredLogEntry, 'id'>>): Promise<void>;
  logs(q: { since?: string; route?: string; trace_id?: string; afterId?: number; limit?: number }): Promise<StoredLogEntry[]>;
}
