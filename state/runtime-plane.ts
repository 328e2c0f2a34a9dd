// The runtime plane (DESIGN §4): events, deliveries, cursors, leases, executors, transform
// state and the log. Written by the executor; never touches the serial. Split by use, so each
// part of the executor (and each CLI command) names only what it calls.

export type DeliveryStatus = 'pending' | 'leased' | 'delivered' | 'retry' | 'dead' | 'cancelled';

export interface StoredEvent {
  id: string;
  source: string;
  type: string;
  dedupe_key: string | null;
  /** the whole OrgEvent, serialized (its `payload` field is one part of it) */
  event_json: string;
  trace_id: string;
  parent_id: string | null;
  hops: number;
  received_at: string;
  /** a webhook's request headers, masked (engine/secrets/headers.ts), as JSON; absent otherwise */
  headers?: string | null;
  /**
   * The event's provenance.platform_event (state/event-columns.ts: matchColumns). Writers
   * on the hot path set it; when absent it is read from event_json at insert.
   */
  platform_event?: string | null;
  /** The event's provenance.author_type (state/event-columns.ts: matchColumns), likewise. */
  author_type?: string | null;
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
  /** set by claim() on a delivery whose lease it took over (expired, or its holder is gone) */
  reclaimed?: boolean;
  /**
   * its event's body, when claim() read it in the same statement (Postgres, bodies up to
   * 64 KiB): the delivery runs without reading it back
   */
  body?: string;
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

export interface PollResult {
  /** false when the lease term no longer holds: nothing was written */
  ok: boolean;
  results: IngestResult[];
}

export interface Cursor {
  cursor: string | null;
  etag: string | null;
  updated_at: string;
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

export type NewLogEntry = Omit<StoredLogEntry, 'id'>;

export interface DeliveryQuery {
  status?: DeliveryStatus;
  route?: string;
  event_id?: string;
  limit?: number;
}

/** A page of events received since a time (plan's traffic annotation walks a window this way). */
export interface ReceivedQuery {
  /** ISO time, inclusive */
  since: string;
  /** only these sources; null = every source */
  sources: readonly string[] | null;
  /** keyset: the last event of the previous page */
  after?: { received_at: string; id: string };
  limit: number;
  /**
   * only events of these groups (as eventGroups returns them); SQLite tests them on the
   * events_match index before reading an event, so the events of other groups are never read
   */
  groups?: ReadonlyArray<EventGroupKey>;
}

/** What eventGroups groups events by. */
export type EventGroupKey = Pick<EventGroup, 'source' | 'type' | 'platform_event' | 'author_type' | 'hops'>;

export type ReceivedEvent = Pick<StoredEvent, 'id' | 'source' | 'type' | 'received_at' | 'event_json' | 'hops'> & { platform_event: string | null; author_type: string | null };

/** Events of a window counted per what routes match on (engine/plan/traffic.ts). */
export interface EventGroupQuery {
  /** ISO time, inclusive */
  since: string;
  /** only these sources */
  sources: readonly string[];
}

export interface EventGroup {
  source: string;
  type: string;
  /** state/event-columns.ts: null when absent or null, IRREGULAR when not a string */
  platform_event: string | null;
  /** likewise for provenance.author_type (migration 011) */
  author_type: string | null;
  hops: number;
  count: number;
}

export interface EventQuery {
  source?: string;
  type?: string;
  trace_id?: string;
  limit?: number;
}

/**
 * With afterId (following with `logs -f`): the entries after it, oldest first, up to limit.
 * Without: the newest `limit` entries matching, returned oldest first for display.
 */
export interface LogQuery {
  since?: string;
  route?: string;
  trace_id?: string;
  afterId?: number;
  limit?: number;
}

export interface DeliveryCount {
  route: string;
  status: DeliveryStatus;
  count: number;
  /** pending, retry, leased and dead only (the backlog and dead letters); null for delivered and cancelled */
  oldest_run_at: number | null;
  /** pending and retry only: when the oldest of them was created (its event arrived); null otherwise */
  oldest_created_at?: string | null;
}

export interface PruneStep {
  /** finished deliveries, events and log rows older than this (epoch ms) go */
  before: number;
  /** dedupe keys first seen before this (epoch ms) go: max(retention, the senders' horizon) */
  keysBefore: number;
  /** at most this many rows of each kind in one step, so a step never holds writers up long */
  limit: number;
}

/** rows pruned; `inbox`: inbox entries past their inbox_ttl (by the store's clock, as enqueues and drains judge them) */
export type PruneCounts = Record<'deliveries' | 'events' | 'log' | 'dedupe_keys' | 'inbox', number>;

/** Accepting events: ingress, cron, completions, replays. */
export interface EventIntake {
  /** One transaction: each event (deduped on source+dedupe_key) plus its deliveries. */
  ingest(items: IngestItem[]): Promise<IngestResult[]>;
}

/** Polling sources' cursors, written together with what a poll found. */
export interface PollCursors {
  /** cursor + events + deliveries in one transaction, fenced by the source lease's term */
  commitPoll(source: string, leaseTerm: number, cursor: string | null, etag: string | null, items: IngestItem[]): Promise<PollResult>;
  cursor(source: string): Promise<Cursor | null>;
}

/** The delivery workers' queue: claim, hold, and settle deliveries under a lease. */
export interface DeliveryQueue {
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
  /** Release leases held by owner back to pending (graceful shutdown). */
  releaseAll(owner: string): Promise<number>;
}

/** What an operator (or a superseded route) does to one delivery. */
export interface DeliveryControl {
  /** pending|retry|leased -> cancelled */
  cancel(id: string, reason: string): Promise<boolean>;
  /** dead|cancelled -> pending with attempts reset; with `serial`, run under that applied version instead of the one that routed it. */
  redrive(id: string, serial?: number): Promise<boolean>;
  /**
   * New pending deliveries for stored events (`events replay --route`: backfilling a route).
   * An (event, route) that already has a delivery is skipped, so a second run adds nothing.
   * Returns how many were added.
   */
  addDeliveries(rows: ReadonlyArray<{ id: string; event_id: string; route: string; actor: string; state_serial: number }>): Promise<number>;
}

/** What a short id can name: an event, a delivery, or a trace (events' trace_id). */
export type IdKind = 'event' | 'delivery' | 'trace';

/** Read-only queries for status, the CLI's listings and the console. Add new reads here. */
export interface Inspection {
  delivery(id: string): Promise<Delivery | null>;
  deliveries(q: DeliveryQuery): Promise<Delivery[]>;
  event(id: string): Promise<StoredEvent | null>;
  /** Ids of this kind starting with `prefix` (only [a-z0-9_]), in order, at most `limit`. */
  idsWithPrefix(kind: IdKind, prefix: string, limit: number): Promise<string[]>;
  events(q: EventQuery): Promise<StoredEvent[]>;
  /** Events received since `q.since`, oldest first, one page at a time (keyset on received_at, id). */
  eventsReceived(q: ReceivedQuery): Promise<ReceivedEvent[]>;
  /** Events received since `q.since` per (source, type, platform_event, author_type, hops), from an index. */
  eventGroups(q: EventGroupQuery): Promise<EventGroup[]>;
  /** Per route and status, from maintained counters: its cost does not grow with the tables. */
  deliveryCounts(): Promise<DeliveryCount[]>;
  executors(): Promise<ExecutorInfo[]>;
  cursor(source: string): Promise<Cursor | null>;
  logs(q: LogQuery): Promise<StoredLogEntry[]>;
}

/** Executors working one store together: named leases with fencing terms, and heartbeats. */
export interface Coordination {
  /** Acquire or renew a named lease; returns the fencing term or null when another holder has it. */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<number | null>;
  releaseLease(name: string, holder: string): Promise<void>;
  /**
   * Renews, in one transaction, leases `holder` still holds live under the given terms; returns the
   * names it no longer holds (expired, taken over, or a different term). Never starts a tenure.
   */
  renewLeases(holder: string, leases: Array<{ name: string; term: number }>, ttlMs: number): Promise<string[]>;
  heartbeatExecutor(info: ExecutorInfo): Promise<void>;
  /**
   * An idle executor's one periodic look at the store: its heartbeat, and what it would otherwise
   * poll for (peers alive within `liveWithinMs`, claimable work, the applied serial). One
   * statement on Postgres, so an idle executor costs one statement per beat.
   */
  beat(info: ExecutorInfo, liveWithinMs: number): Promise<Beat>;
  removeExecutor(id: string): Promise<void>;
}

export interface Beat {
  /** other executors whose heartbeat is fresh */
  peers: number;
  /** whether claim() would find anything now */
  claimable: boolean;
  /** the applied serial */
  serial: number;
}

/** What wakes an executor besides its own timers: peers' new work and new applies. */
export interface WakeHandlers {
  /** deliveries were queued for any executor to claim */
  work(): void;
  /** a new version was applied */
  apply(): void;
}

/** Wake-ups across executors, and the session that shows an executor alive to its peers. */
export interface Wakeups {
  /**
   * Postgres: LISTENs on a connection of its own, named after the executor, and keeps it
   * (reconnecting) until unsubscribe; peers reclaim the leases of an executor whose session is
   * gone. Resolves false where the backend has no such channel (SQLite: one process).
   */
  subscribe(executorId: string, on: WakeHandlers): Promise<boolean>;
  unsubscribe(): Promise<void>;
}

/** Small durable state of transforms (dedup windows) and cron (last fire times). */
export interface TransformState {
  /** dedup transform: true if key was seen within windowMs (and records it now). */
  seen(scope: string, key: string, windowMs: number): Promise<boolean>;
  kvGet(key: string): Promise<string | null>;
  kvSet(key: string, value: string): Promise<void>;
}

/** Retention: pruning what is finished and old, one bounded step at a time. */
export interface Retention {
  /** One transaction; pending, retrying and leased deliveries and their events are never pruned; expired inbox entries are. */
  prune(step: PruneStep): Promise<PruneCounts>;
}

/** Where the log bus writes. */
export interface LogSink {
  appendLog(entries: NewLogEntry[]): Promise<void>;
}
