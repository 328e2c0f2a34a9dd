// Intake: turns what a source emitted into stored events plus one delivery per matched route.
// Concurrent ingests share one transaction (the store group-commits writes issued in the same
// event-loop turn); polling sources commit their prepared items together with the cursor.

import type { EmittedEvent, LogEntry, OrgEvent } from '../../providers/types.js';
import type { Delivery, IngestItem, IngestResult, Store } from '../../state/store.js';
import { isoTime } from '../../state/iso-time.js';
import { routeEvent, type Graph, type RuntimeRoute } from './graph.js';
import { newId } from './ids.js';
import { Tracing, type ReceiveSpan } from './tracing.js';

export interface Prepared {
  event: OrgEvent;
  item: IngestItem;
  routes: RuntimeRoute[];
  cut: RuntimeRoute[];
  /** the event's receive span, ended once the event is stored (or could not be) */
  span: ReceiveSpan;
}

export interface Accepted {
  event_id: string;
  deliveries: number;
  duplicate: boolean;
}

export interface CachedEvent {
  event: OrgEvent;
  /** the event as stored: JSON.stringify(event) */
  json: string;
  refs: number;
}

/**
 * Events whose deliveries are still to run here, so workers do not re-read and re-parse them from
 * the store. An entry goes when its last local delivery finished (`done`), so the cache holds
 * the backlog, not history; `max` bounds it when deliveries run elsewhere.
 */
export class EventCache {
  private readonly map = new Map<string, CachedEvent>();
  constructor(private readonly max = 20_000) {}
  /** `json`: the event as stored; `refs`: how many deliveries of the event will call done() */
  set(e: OrgEvent, json: string, refs = 1): void {
    this.map.set(e.id, { event: e, json, refs });
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
  get(id: string): CachedEvent | undefined {
    return this.map.get(id);
  }
  /** one delivery of the event finished (or gave up) here */
  done(id: string): void {
    const x = this.map.get(id);
    if (x && --x.refs <= 0) this.map.delete(id);
  }
  get size(): number {
    return this.map.size;
  }
}

export function toOrgEvent(source: string, e: EmittedEvent, now: number = Date.now()): OrgEvent {
  const id = newId('evt');
  return {
    id,
    type: e.type,
    source,
    time: e.time ?? isoTime(now),
    provenance: e.provenance ?? {},
    payload: e.payload ?? {},
    trace_id: e.trace_id ?? id,
    parent_id: e.parent_id ?? null,
    hops: e.hops ?? 0,
  };
}

/** Tracing off unless the executor is given one: traceparents are still carried. */
const UNTRACED = new Tracing(false);

/** The local delivery workers, as far as leasing at ingest needs them. */
export interface LocalWorkers {
  readonly owner: string;
  readonly leaseMs: number;
  /** reserves n slots; false when they are not free (the deliveries then queue as pending) */
  reserve(n: number): boolean;
  unreserve(n: number): void;
  /** runs deliveries inserted leased to `owner`, in reserved slots */
  runLeased(ds: Delivery[]): void;
}

export class Intake {
  constructor(
    private readonly store: Store,
    private readonly log: (e: LogEntry) => void,
    private readonly cache: EventCache,
    /** called after deliveries were committed as pending (wakes the local workers to claim) */
    private readonly onNewDeliveries: () => void,
    /** when given, deliveries are inserted leased to these workers while they have room */
    private readonly local?: () => LocalWorkers,
    private readonly tracing: Tracing = UNTRACED,
  ) {}

  /** `traceparent`: the W3C context the request that carried the event gave, if any */
  prepare(graph: Graph, source: string, emitted: EmittedEvent, traceparent?: string): Prepared {
    const event = toOrgEvent(source, emitted);
    const span = this.tracing.receive(source, event, emitted.traceparent ?? traceparent);
    if (span.traceparent) event.traceparent = span.traceparent;
    const { deliver, cut } = routeEvent(graph, event);
    span.routed(
      deliver.map((r) => r.name),
      cut.map((r) => r.name),
    );
    const item: IngestItem = {
      event: {
        id: event.id,
        source,
        type: event.type,
        dedupe_key: emitted.dedupe_key ?? null,
        event_json: JSON.stringify(event),
        trace_id: event.trace_id,
        parent_id: event.parent_id ?? null,
        hops: event.hops,
        received_at: event.time,
      },
      deliveries: deliver.map((r) => ({ id: newId('dlv'), route: r.name, actor: r.actor, state_serial: graph.serial })),
    };
    return { event, item, routes: deliver, cut, span };
  }

  /** Group-committed ingest of prepared events; rejects when the store cannot be written. */
  async submit(prepared: Prepared[]): Promise<Accepted[]> {
    const local = this.local?.();
    if (!local) {
      let results: IngestResult[];
      try {
        results = await this.store.ingest(prepared.map((p) => p.item));
      } catch (err) {
        for (const p of prepared) p.span.end((err as Error).message);
        throw err;
      }
      return this.committed(prepared, results);
    }
    // Lease at ingest: the deliveries are stored leased to this executor in the same transaction
    // as the event and handed to the workers in memory, skipping a claim round trip.
    let reserved = 0;
    const items = prepared.map((p) => {
      const n = p.item.deliveries.length;
      if (n === 0 || !local.reserve(n)) return p.item;
      reserved += n;
      return { ...p.item, leaseTo: { owner: local.owner, leaseMs: local.leaseMs } };
    });
    let results: IngestResult[];
    try {
      results = await this.store.ingest(items);
    } catch (err) {
      local.unreserve(reserved);
      for (const p of prepared) p.span.end((err as Error).message);
      throw err;
    }
    const accepted = this.committed(prepared, results);
    if (reserved > 0) {
      const leased: Delivery[] = [];
      for (const r of results) if (r.leased) for (const d of r.leased) leased.push(d);
      local.unreserve(reserved - leased.length);
      local.runLeased(leased);
    }
    return accepted;
  }

  /** Logging, caching and worker wake-up after a commit (also used by polling sources). */
  committed(prepared: Prepared[], results: IngestResult[]): Accepted[] {
    const out: Accepted[] = [];
    let any = false;
    for (let i = 0; i < prepared.length; i++) {
      const p = prepared[i]!;
      const r = results[i]!;
      p.span.end();
      if (!r.inserted) {
        out.push({ event_id: r.event_id, deliveries: 0, duplicate: true });
        this.log({
          time: new Date().toISOString(),
          phase: 'source.duplicate',
          level: 'debug',
          source: p.event.source,
          event_id: r.event_id,
          message: `duplicate of ${r.event_id} (dedupe key ${p.item.event.dedupe_key}) ignored`,
        });
        continue;
      }
      out.push({ event_id: p.event.id, deliveries: p.item.deliveries.length, duplicate: false });
      this.logEmit(p);
      if (p.item.deliveries.length > 0) {
        this.cache.set(p.event, p.item.event.event_json, p.item.deliveries.length);
        // leased at ingest: the workers already have them, no claim needed
        if ((r.leased?.length ?? 0) < p.item.deliveries.length) any = true;
      }
    }
    if (any) this.onNewDeliveries();
    return out;
  }

  private logEmit(p: Prepared): void {
    const e = p.event;
    const time = isoTime();
    this.log({
      time,
      phase: 'source.emit',
      level: 'info',
      source: e.source,
      event_id: e.id,
      trace_id: e.trace_id,
      message: `${e.type}${e.provenance.platform_event && e.provenance.platform_event !== e.type ? ` (${e.provenance.platform_event})` : ''} from ${e.source}, ${p.routes.length} route${p.routes.length === 1 ? '' : 's'} matched`,
      data: e.hops > 0 ? { hops: e.hops, parent_id: e.parent_id } : undefined,
    });
    for (let i = 0; i < p.routes.length; i++) {
      const r = p.routes[i]!;
      this.log({
        time,
        phase: 'route.match',
        level: 'info',
        source: e.source,
        route: r.name,
        actor: r.actor,
        event_id: e.id,
        delivery_id: p.item.deliveries[i]!.id,
        trace_id: e.trace_id,
        message: `route ${r.name} -> actor ${r.actor}`,
      });
    }
    for (const r of p.cut) {
      this.log({
        time,
        phase: 'loop.cut',
        level: 'warn',
        source: e.source,
        route: r.name,
        actor: r.actor,
        event_id: e.id,
        trace_id: e.trace_id,
        message: `not delivered: event is ${e.hops} hops deep, route ${r.name} allows max_hops ${r.maxHops}`,
        data: { hops: e.hops, max_hops: r.maxHops },
      });
    }
  }
}
