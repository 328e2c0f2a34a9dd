// Intake: turns what a source emitted into stored events plus one delivery per matched route.
// Concurrent ingests share one transaction (the store group-commits writes issued in the same
// event-loop turn); polling sources commit their prepared items together with the cursor.

import type { EmittedEvent, LogEntry, OrgEvent } from '../../providers/types.js';
import type { EventIntake, IngestItem, IngestResult } from '../../state/store.js';
import type { EventMemory } from './event-memory.js';
import { isoTime } from '../../state/iso-time.js';
import { matchColumns } from '../../state/event-columns.js';
import { routeEvent, type Graph, type RuntimeRoute } from './graph.js';
import { newId } from './ids.js';
import type { Queued, Slots } from './slots.js';
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

export function toOrgEvent(source: string, e: EmittedEvent, now: number = Date.now()): OrgEvent {
  const id = newId('evt');
  const time = e.time ?? isoTime(now);
  return {
    id,
    type: e.type,
    source,
    time,
    // OrgLoop's envelope names the time `timestamp` and prefixes trace ids with trc_: both are
    // kept so events read the same to routes, filters and agents written for it
    timestamp: time,
    provenance: e.provenance ?? {},
    payload: e.payload ?? {},
    trace_id: e.trace_id ?? `trc_${id.slice(4)}`,
    parent_id: e.parent_id ?? null,
    hops: e.hops ?? 0,
  };
}

/** Tracing off unless the executor is given one: traceparents are still carried. */
const UNTRACED = new Tracing(false);

/** Where deliveries leased at ingest go: this executor's slots, and the memory that keeps their events' bodies. */
export interface LocalQueue {
  owner: string;
  leaseMs: number;
  slots: Slots;
  memory: EventMemory;
}

export class Intake {
  constructor(
    private readonly store: EventIntake,
    private readonly log: (e: LogEntry) => void,
    /** deliveries are inserted leased to this executor while its slots have room */
    private readonly local: LocalQueue,
    private readonly tracing: Tracing = UNTRACED,
  ) {}

  /** `traceparent`: the W3C context the request that carried the event gave, if any */
  prepare(graph: Graph, source: string, emitted: EmittedEvent, traceparent?: string, headers?: string): Prepared {
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
        ...matchColumns(event),
        ...(headers ? { headers } : {}),
      },
      deliveries: deliver.map((r) => ({ id: newId('dlv'), route: r.name, actor: r.actor, state_serial: graph.serial })),
    };
    return { event, item, routes: deliver, cut, span };
  }

  /** Group-committed ingest of prepared events; rejects when the store cannot be written. */
  async submit(prepared: Prepared[]): Promise<Accepted[]> {
    // Lease at ingest: the deliveries are stored leased to this executor in the same transaction
    // as the event and handed to the workers in memory, skipping a claim round trip.
    const { slots, owner, leaseMs } = this.local;
    let reserved = 0;
    const items = prepared.map((p) => {
      const n = p.item.deliveries.length;
      if (n === 0 || !slots.reserve(n)) return p.item;
      reserved += n;
      return { ...p.item, leaseTo: { owner, leaseMs } };
    });
    let results: IngestResult[];
    try {
      results = await this.store.ingest(items);
    } catch (err) {
      slots.unreserve(reserved);
      for (const p of prepared) p.span.end((err as Error).message);
      throw err;
    }
    const accepted = this.committed(prepared, results);
    if (reserved > 0) {
      const leased: Queued[] = [];
      for (let i = 0; i < results.length; i++) {
        const ds = results[i]!.leased;
        if (!ds || ds.length === 0) continue;
        const p = prepared[i]!;
        // the body stays in memory for its deliveries while it fits; past that they read it from the store
        const held = this.local.memory.keep(p.event, p.item.event.event_json, ds.length);
        for (const d of ds) leased.push({ delivery: d, held });
      }
      slots.unreserve(reserved - leased.length);
      slots.admit(leased);
    }
    return accepted;
  }

  /** Logging and worker wake-up after a commit (also used by polling sources). */
  committed(prepared: Prepared[], results: IngestResult[]): Accepted[] {
    const out: Accepted[] = [];
    let queued = false;
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
      // leased at ingest: the workers get them from submit, no claim needed
      if ((r.leased?.length ?? 0) < p.item.deliveries.length) queued = true;
    }
    if (queued) this.local.slots.queued();
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
