// Prometheus metrics of one executor (GET /metrics). Counters and histograms are derived from
// the log entries the executor already emits for every step (so the hot path gains one switch,
// not a second instrumentation layer); gauges about the backlog and the store are read from the
// store when scraped. Label values come only from the applied configuration (source, route,
// actor and transform names) and from fixed vocabularies, never from requests or payloads.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LogEntry } from '../../providers/types.js';
import type { RuntimeQueries } from '../../state/queries/queries.js';

export interface MetricsDeps {
  /** names the current graph knows: a label value outside them is folded into "" */
  known(kind: 'source' | 'route' | 'actor' | 'transform', name: string): boolean;
  /** ids of the current graph's polling sources */
  pollingSources(): string[];
  /** the applied serial the executor runs */
  serial(): number;
  /** deliveries running in this executor now */
  inFlight(): number;
  /** store queries for gauges; null (until useQueries): backlog and store gauges are left out */
  queries: RuntimeQueries | null;
  now?: () => number;
  /** minimum interval between two store reads; scrapes in between reuse the last values */
  refreshMs?: number;
}

/** Seconds buckets from 5 ms to ~10 min: webhook agents answer in milliseconds, command agents run for minutes. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** The reason an ingress rejection is counted under, from its HTTP status: a closed vocabulary. */
export function rejectReason(status: number): string {
  switch (status) {
    case 400:
      return 'invalid';
    case 401:
    case 403:
      return 'unauthorized';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 408:
      return 'timeout';
    case 413:
      return 'too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'rate_limited';
    case 503:
      return 'unavailable';
    default:
      return status >= 500 ? 'server_error' : 'client_error';
  }
}

/** Epoch ms an event or delivery id was minted at (ids.ts: prefix_ + 9 base36 chars of ms), or null. */
export function idTime(id: string | undefined): number | null {
  if (!id || id.length < 13 || id[3] !== '_') return null;
  const ms = parseInt(id.slice(4, 13), 36);
  return Number.isFinite(ms) ? ms : null;
}

export class ExecutorMetrics {
  readonly registry = new Registry();
  private readonly now: () => number;
  private lastRefresh = 0;
  private refreshing: Promise<void> | null = null;

  private readonly received: Counter<'source'>;
  private readonly duplicates: Counter<'source'>;
  private readonly rejected: Counter<'source' | 'reason'>;
  private readonly routed: Counter<'source' | 'route'>;
  private readonly deliveries: Counter<'route' | 'actor' | 'outcome'>;
  private readonly transforms: Counter<'transform' | 'decision'>;
  private readonly loopCuts: Counter<'route'>;
  private readonly sourceErrors: Counter<'source'>;
  private readonly deliveryDuration: Histogram<'actor'>;
  private readonly endToEnd: Histogram<'actor'>;
  private readonly backlog: Gauge<'route' | 'actor' | 'status'>;
  private readonly oldest: Gauge<'route' | 'actor'>;
  private readonly dead: Gauge<'route' | 'actor'>;
  private readonly expired: Gauge;
  private readonly pollLag: Gauge<'source'>;
  private readonly storeBytes: Gauge;
  private readonly storeUp: Gauge;

  constructor(private readonly d: MetricsDeps) {
    this.now = d.now ?? Date.now;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.received = new Counter({ name: 'orgloop_events_received_total', help: 'Events accepted and stored, per source (webhooks, polls, cron, actor.stopped).', labelNames: ['source'], registers });
    this.duplicates = new Counter({ name: 'orgloop_events_duplicate_total', help: 'Events ignored as duplicates of a stored one (same dedupe key), per source.', labelNames: ['source'], registers });
    this.rejected = new Counter({ name: 'orgloop_events_rejected_total', help: 'Ingress requests answered with an error, per source ("" when the path names none) and reason.', labelNames: ['source', 'reason'], registers });
    this.routed = new Counter({ name: 'orgloop_route_matches_total', help: 'Deliveries created: an event matched a route.', labelNames: ['source', 'route'], registers });
    this.deliveries = new Counter({ name: 'orgloop_deliveries_total', help: 'Delivery attempts finished, per route, actor and outcome (delivered, dropped, retry, dead, cancelled, lease_lost).', labelNames: ['route', 'actor', 'outcome'], registers });
    this.transforms = new Counter({ name: 'orgloop_transform_decisions_total', help: 'Transform decisions (pass, drop, error), per transform.', labelNames: ['transform', 'decision'], registers });
    this.loopCuts = new Counter({ name: 'orgloop_loop_cuts_total', help: 'Events not delivered because they were more hops deep than the route allows.', labelNames: ['route'], registers });
    this.sourceErrors = new Counter({ name: 'orgloop_source_errors_total', help: 'Failed polls and other source errors, per source.', labelNames: ['source'], registers });
    this.deliveryDuration = new Histogram({ name: 'orgloop_delivery_duration_seconds', help: 'How long a successful delivery took the actor (one attempt).', labelNames: ['actor'], buckets: LATENCY_BUCKETS, registers });
    this.endToEnd = new Histogram({ name: 'orgloop_end_to_end_latency_seconds', help: 'From the event being received to its delivery succeeding, retries included.', labelNames: ['actor'], buckets: LATENCY_BUCKETS, registers });
    const gauge = <L extends string>(name: string, help: string, labelNames: L[]) => new Gauge<L>({ name, help, labelNames, registers });
    this.backlog = gauge('orgloop_backlog_deliveries', 'Deliveries not finished in the store, per route, actor and status (pending, retry, leased).', ['route', 'actor', 'status']);
    this.oldest = gauge('orgloop_backlog_oldest_age_seconds', 'Age of the oldest delivery that is due and not yet running (0 when none is waiting).', ['route', 'actor']);
    this.dead = gauge('orgloop_dead_letters', 'Dead deliveries in the store (gave up or not retryable), per route and actor.', ['route', 'actor']);
    this.expired = gauge('orgloop_leases_expired', 'Leased deliveries whose lease ran out: work of a crashed or stalled worker, waiting to be reclaimed.', []);
    this.pollLag = gauge('orgloop_source_poll_lag_seconds', 'Time since a polling source last committed a poll (its cursor), per source.', ['source']);
    this.storeBytes = gauge('orgloop_store_size_bytes', 'Bytes the state store takes (SQLite: file and WAL; Postgres: the tables of its schema).', []);
    this.storeUp = gauge('orgloop_store_up', '1 when the last read of the store for these metrics succeeded, else 0.', []);
    // read from the executor when scraped, not from the store
    new Gauge({ name: 'orgloop_applied_serial', help: 'The applied state version this executor runs.', registers, collect() {
      this.set(d.serial());
    } });
    new Gauge({ name: 'orgloop_deliveries_in_flight', help: 'Deliveries running in this executor now.', registers, collect() {
      this.set(d.inFlight());
    } });
  }

  /** The store can be read now (the executor opens the query connection once it starts). */
  useQueries(q: RuntimeQueries): void {
    this.d.queries = q;
  }

  private label(kind: 'source' | 'route' | 'actor' | 'transform', name: string | undefined): string {
    return name && this.d.known(kind, name) ? name : '';
  }

  /** Called with every log entry the executor emits. */
  observe(e: LogEntry): void {
    switch (e.phase) {
      case 'source.emit':
        this.received.inc({ source: this.label('source', e.source) });
        return;
      case 'source.duplicate':
        this.duplicates.inc({ source: this.label('source', e.source) });
        return;
      case 'route.match':
        this.routed.inc({ source: this.label('source', e.source), route: this.label('route', e.route) });
        return;
      case 'ingress.reject': {
        const status = Number(e.data?.status);
        this.rejected.inc({ source: this.label('source', e.source), reason: rejectReason(Number.isFinite(status) ? status : 400) });
        return;
      }
      case 'source.error':
        this.sourceErrors.inc({ source: this.label('source', e.source) });
        return;
      case 'loop.cut':
        this.loopCuts.inc({ route: this.label('route', e.route) });
        return;
      case 'transform.pass':
      case 'transform.drop':
      case 'transform.error':
        this.transforms.inc({ transform: this.label('transform', e.data?.transform as string | undefined), decision: e.phase.slice('transform.'.length) });
        return;
      case 'deliver.success': {
        const actor = this.label('actor', e.actor);
        const dropped = e.data?.dropped === true;
        this.deliveries.inc({ route: this.label('route', e.route), actor, outcome: dropped ? 'dropped' : 'delivered' });
        if (dropped) return;
        const ms = e.data?.duration_ms;
        if (typeof ms === 'number') this.deliveryDuration.observe({ actor }, ms / 1000);
        const at = idTime(e.event_id);
        if (at !== null) this.endToEnd.observe({ actor }, Math.max(0, this.now() - at) / 1000);
        return;
      }
      case 'deliver.retry':
        return this.outcome(e, 'retry');
      case 'deliver.dead':
        return this.outcome(e, 'dead');
      case 'deliver.cancel':
        return this.outcome(e, 'cancelled');
      case 'deliver.lease_lost':
        return this.outcome(e, 'lease_lost');
    }
  }

  private outcome(e: LogEntry, outcome: string): void {
    this.deliveries.inc({ route: this.label('route', e.route), actor: this.label('actor', e.actor), outcome });
  }

  /** Reads the store-backed gauges, at most once per refreshMs however often we are scraped. */
  private async refresh(): Promise<void> {
    const q = this.d.queries;
    if (!q) return;
    if (this.now() - this.lastRefresh < (this.d.refreshMs ?? 1000)) return;
    if (this.refreshing) return this.refreshing;
    this.refreshing = (async () => {
      try {
        const now = this.now();
        const [rows, expired, cursors, bytes] = await Promise.all([q.backlog(), q.expiredLeases(now), q.cursors(), q.storeBytes()]);
        this.backlog.reset();
        this.oldest.reset();
        this.dead.reset();
        const oldest = new Map<string, { route: string; actor: string; at: number }>();
        for (const r of rows) {
          // stored names outside the current graph (a removed route draining) are real but bounded by history
          const labels = { route: r.route, actor: r.actor };
          if (r.status === 'dead') {
            this.dead.set(labels, r.count);
            continue;
          }
          this.backlog.set({ ...labels, status: r.status }, r.count);
          const key = `${r.route}\u0000${r.actor}`;
          const prev = oldest.get(key) ?? { ...labels, at: Infinity };
          // running (leased) work is not waiting; retries count from when they became due
          if ((r.status === 'pending' || r.status === 'retry') && r.oldest_run_at !== null) prev.at = Math.min(prev.at, r.oldest_run_at);
          oldest.set(key, prev);
        }
        for (const o of oldest.values()) this.oldest.set({ route: o.route, actor: o.actor }, o.at === Infinity ? 0 : Math.max(0, now - o.at) / 1000);
        this.expired.set(expired);
        this.pollLag.reset();
        const polled = new Map(cursors.map((c) => [c.source, Date.parse(c.updated_at)]));
        for (const s of this.d.pollingSources()) {
          const at = polled.get(s);
          if (at !== undefined && Number.isFinite(at)) this.pollLag.set({ source: s }, Math.max(0, now - at) / 1000);
        }
        this.storeBytes.set(bytes);
        this.storeUp.set(1);
      } catch {
        this.storeUp.set(0);
      } finally {
        this.lastRefresh = this.now();
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** The Prometheus text exposition of all metrics. */
  async render(): Promise<{ contentType: string; body: string }> {
    await this.refresh();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
