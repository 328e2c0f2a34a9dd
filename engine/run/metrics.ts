// Prometheus metrics of one executor (GET /metrics). Counters and histograms are derived from
// the log entries the executor already emits for every step (so the hot path gains one switch,
// not a second instrumentation layer); gauges about the backlog and the store are read from the
// store when scraped. Label values come only from the applied configuration (source, route,
// actor and transform names) and from fixed vocabularies, never from requests or payloads.

import { Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
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
  /** minimum interval between two reads of the backlog and the store size; scrapes in between reuse the last values (default 5 s) */
  refreshMs?: number;
  /** dead letters are counted again after this long (default 30 s), or sooner once a delivery here died */
  deadRefreshMs?: number;
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

/** A label key for the maps below: one string per distinct label values. */
const keyOf = (values: string[]) => (values.length === 1 ? values[0]! : values.join('\u0000'));

/**
 * A labelled counter kept in a plain map, registered into prom-client's registry (which only
 * asks registered metrics for `get()`). prom-client's own metrics hash the label object on every
 * increment, which cost ~1 µs per log entry on the delivery path; here a label set is looked up
 * by one string key.
 */
class FastCounter {
  readonly type = 'counter';
  private readonly cells = new Map<string, { labels: string[]; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: string[],
  ) {}

  inc(...values: string[]): void {
    const key = keyOf(values);
    const c = this.cells.get(key);
    if (c) c.value++;
    else this.cells.set(key, { labels: values, value: 1 });
  }

  get() {
    const values = [...this.cells.values()].map((c) => ({ labels: Object.fromEntries(this.labelNames.map((n, i) => [n, c.labels[i]!])), value: c.value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }
}

/** A labelled histogram kept like FastCounter: per label set, a count per bucket, the sum and the count. */
class FastHistogram {
  readonly type = 'histogram';
  private readonly cells = new Map<string, { labels: string[]; buckets: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: string[],
    private readonly bounds: number[],
  ) {}

  observe(value: number, ...values: string[]): void {
    const key = keyOf(values);
    let c = this.cells.get(key);
    if (!c) {
      c = { labels: values, buckets: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 };
      this.cells.set(key, c);
    }
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    c.buckets[i]!++;
    c.sum += value;
    c.count++;
  }

  get() {
    const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
    for (const c of this.cells.values()) {
      const labels: Record<string, string | number> = Object.fromEntries(this.labelNames.map((n, i) => [n, c.labels[i]!]));
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += c.buckets[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: i < this.bounds.length ? this.bounds[i]! : '+Inf' }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels, value: c.sum }, { metricName: `${this.name}_count`, labels, value: c.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }
}

export class ExecutorMetrics {
  readonly registry = new Registry();
  private readonly now: () => number;
  private lastRefresh = 0;
  private lastDeadRefresh = 0;
  /** deliveries that died here since dead letters were last counted */
  private diedSince = 0;
  /** when this executor last had an answer from each polling source */
  private readonly lastPoll = new Map<string, number>();
  private refreshing: Promise<void> | null = null;

  private readonly c: {
    received: FastCounter;
    duplicates: FastCounter;
    rejected: FastCounter;
    routed: FastCounter;
    deliveries: FastCounter;
    transforms: FastCounter;
    loopCuts: FastCounter;
    reclaimed: FastCounter;
    sourceErrors: FastCounter;
    deliveryDuration: FastHistogram;
    endToEnd: FastHistogram;
  };
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
    const counter = (name: string, help: string, labelNames: string[]) => {
      const m = new FastCounter(name, help, labelNames);
      this.registry.registerMetric(m as unknown as Metric);
      return m;
    };
    const histogram = (name: string, help: string, labelNames: string[]) => {
      const m = new FastHistogram(name, help, labelNames, LATENCY_BUCKETS);
      this.registry.registerMetric(m as unknown as Metric);
      return m;
    };
    this.c = {
      received: counter('orgloop_events_received_total', 'Events accepted and stored, per source (webhooks, polls, cron, actor.stopped).', ['source']),
      duplicates: counter('orgloop_events_duplicate_total', 'Events ignored as duplicates of a stored one (same dedupe key), per source.', ['source']),
      rejected: counter('orgloop_events_rejected_total', 'Ingress requests answered with an error, per source ("" when the path names none) and reason.', ['source', 'reason']),
      routed: counter('orgloop_route_matches_total', 'Deliveries created: an event matched a route.', ['source', 'route']),
      deliveries: counter('orgloop_deliveries_total', 'Delivery attempts finished, per route, actor and outcome (delivered, dropped, retry, dead, cancelled, lease_lost).', ['route', 'actor', 'outcome']),
      transforms: counter('orgloop_transform_decisions_total', 'Transform decisions (pass, drop, error), per transform.', ['transform', 'decision']),
      reclaimed: counter('orgloop_leases_reclaimed_total', 'Deliveries this executor took over from a crashed or stalled worker (lease expired, or its executor gone), per route and actor.', ['route', 'actor']),
      loopCuts: counter('orgloop_loop_cuts_total', 'Events not delivered because they were more hops deep than the route allows.', ['route']),
      sourceErrors: counter('orgloop_source_errors_total', 'Failed polls and other source errors, per source.', ['source']),
      deliveryDuration: histogram('orgloop_delivery_duration_seconds', 'How long a successful delivery took the actor (one attempt).', ['actor']),
      endToEnd: histogram('orgloop_end_to_end_latency_seconds', 'From the event being received to its delivery succeeding, retries included.', ['actor']),
    };
    const gauge = <L extends string>(name: string, help: string, labelNames: L[]) => new Gauge<L>({ name, help, labelNames, registers });
    this.backlog = gauge('orgloop_backlog_deliveries', 'Deliveries not finished in the store, per route, actor and status (pending, retry, leased).', ['route', 'actor', 'status']);
    this.oldest = gauge('orgloop_backlog_oldest_age_seconds', 'Age of the oldest delivery that is due and not yet running (0 when none is waiting).', ['route', 'actor']);
    this.dead = gauge('orgloop_dead_letters', 'Dead deliveries in the store (gave up or not retryable), per route and actor.', ['route', 'actor']);
    this.expired = gauge('orgloop_leases_expired', 'Leased deliveries whose lease ran out: work of a crashed or stalled worker, waiting to be reclaimed.', []);
    this.pollLag = gauge('orgloop_source_poll_lag_seconds', 'Time since this executor last had an answer from a polling source it polls (it holds the source lease), per source.', ['source']);
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
        this.c.received.inc(this.label('source', e.source));
        return;
      case 'source.duplicate':
        this.c.duplicates.inc(this.label('source', e.source));
        return;
      case 'route.match':
        this.c.routed.inc(this.label('source', e.source), this.label('route', e.route));
        return;
      case 'ingress.reject': {
        const status = Number(e.data?.status);
        this.c.rejected.inc(this.label('source', e.source), rejectReason(Number.isFinite(status) ? status : 400));
        return;
      }
      case 'source.poll':
        if (e.source) this.lastPoll.set(e.source, this.now());
        return;
      case 'source.error':
        this.c.sourceErrors.inc(this.label('source', e.source));
        return;
      case 'loop.cut':
        this.c.loopCuts.inc(this.label('route', e.route));
        return;
      case 'transform.pass':
      case 'transform.drop':
      case 'transform.error':
        this.c.transforms.inc(this.label('transform', e.data?.transform as string | undefined), e.phase.slice('transform.'.length));
        return;
      case 'deliver.success': {
        const actor = this.label('actor', e.actor);
        const dropped = e.data?.dropped === true;
        this.c.deliveries.inc(this.label('route', e.route), actor, dropped ? 'dropped' : 'delivered');
        if (dropped) return;
        const ms = e.data?.duration_ms;
        if (typeof ms === 'number') this.c.deliveryDuration.observe(ms / 1000, actor);
        const at = idTime(e.event_id);
        if (at !== null) this.c.endToEnd.observe(Math.max(0, this.now() - at) / 1000, actor);
        return;
      }
      case 'deliver.retry':
        return this.outcome(e, 'retry');
      case 'deliver.dead':
        this.diedSince++;
        return this.outcome(e, 'dead');
      case 'deliver.cancel':
        return this.outcome(e, 'cancelled');
      case 'deliver.lease_lost':
        return this.outcome(e, 'lease_lost');
      case 'deliver.reclaim':
        this.c.reclaimed.inc(this.label('route', e.route), this.label('actor', e.actor));
        return;
    }
  }

  private outcome(e: LogEntry, outcome: string): void {
    this.c.deliveries.inc(this.label('route', e.route), this.label('actor', e.actor), outcome);
  }

  /** Reads the store-backed gauges, at most once per refreshMs however often we are scraped. */
  private async refresh(): Promise<void> {
    const q = this.d.queries;
    if (!q) return;
    if (this.now() - this.lastRefresh < (this.d.refreshMs ?? 5000)) return;
    if (this.refreshing) return this.refreshing;
    this.refreshing = (async () => {
      try {
        const now = this.now();
        // dead letters pile up (thousands) and change rarely: counting them each scrape cost more
        // than everything else together, so only now and then, or when one died here
        const countDead = this.diedSince > 0 || now - this.lastDeadRefresh >= (this.d.deadRefreshMs ?? 30_000);
        if (countDead) this.diedSince = 0;
        const [rows, expired, bytes] = await Promise.all([
          q.backlog(countDead ? ['pending', 'retry', 'leased', 'dead'] : ['pending', 'retry', 'leased']),
          q.expiredLeases(now),
          q.storeBytes(),
        ]);
        this.backlog.reset();
        this.oldest.reset();
        if (countDead) {
          this.dead.reset();
          this.lastDeadRefresh = now;
        }
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
    const now = this.now();
    this.pollLag.reset();
    for (const s of this.d.pollingSources()) {
      const at = this.lastPoll.get(s);
      if (at !== undefined) this.pollLag.set({ source: s }, Math.max(0, now - at) / 1000);
    }
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
