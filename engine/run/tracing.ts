// OpenTelemetry spans of the loop, through @opentelemetry/api only: what records and exports
// them is the process's business (cmd/otel.ts registers an SDK when OTEL_* asks for one).
//
// One trace per chain of events: `receive <source>` when an event is stored (parent: the
// `traceparent` the sender gave, else the event that caused it), `route` for the route matches,
// then per delivery `process <route>` with a `transform <name>` per transform, `send <actor>`
// around the actor call and `settle <route>` around recording the outcome. The W3C context
// crosses the store inside the event (`traceparent`), so a delivery run later or by another
// executor joins its event's trace, and the actor gets it too (the `traceparent` header, the
// TRACEPARENT variable): an agent's own spans join orgloop's trace.
//
// With tracing off nothing is recorded, but traceparents are still carried: the sender's is
// stored and passed on unchanged, and an event without one gives its actors one derived from
// its trace_id (nothing stored), so everything one chain of events causes shares a trace id
// even then.

import { createHash } from 'node:crypto';
import { context, SpanKind, SpanStatusCode, trace, TraceFlags, type Context, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A W3C traceparent as a remote span context, or null when it is malformed or all zeros. */
export function parseTraceparent(value: unknown): SpanContext | null {
  if (typeof value !== 'string') return null;
  const m = TRACEPARENT.exec(value.trim().toLowerCase());
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return null;
  return { traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16) & 1, isRemote: true };
}

export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & TraceFlags.SAMPLED ? 1 : 0}`;
}

function hex(text: string, chars: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, chars);
}

/** The traceparent of an event that came without one: trace id from its trace_id, span id from its id. */
export function derivedTraceparent(traceId: string, eventId: string): string {
  return `00-${hex(`trace:${traceId}`, 32)}-${hex(`span:${eventId}`, 16)}-01`;
}

/** Where an event's spans hang: its stored traceparent, or nothing (a new trace). */
function parentContext(traceparent: string | undefined): Context {
  const sc = parseTraceparent(traceparent);
  return sc ? trace.setSpanContext(context.active(), sc) : context.active();
}

/** What Intake needs to start the spans of one event. */
export interface ReceiveSpan {
  /** the context this event passes on, stored with the event: parent of its deliveries' spans */
  traceparent: string | undefined;
  /** the route matches, as a `route` child span */
  routed(routes: string[], cut: string[]): void;
  end(error?: string): void;
}

/** The spans of one delivery attempt. */
export interface DeliverySpans {
  /** a transform decided: its span runs from the previous step's end to now */
  transform(name: string, decision: string, detail?: string): void;
  /** the actor call starts; returns the traceparent to hand to the actor */
  send(actor: string): string;
  sent(error?: string): void;
  settle(): void;
  /** the delivery's outcome is recorded: ends every open span */
  end(outcome: string, error?: string): void;
}

const noop = () => {};
const NOTHING: ReceiveSpan = { traceparent: undefined, routed: noop, end: noop };

export class Tracing {
  private readonly tracer: Tracer;

  /** enabled: spans are recorded (an SDK is registered); otherwise only traceparents are carried */
  constructor(readonly enabled: boolean, tracer?: Tracer) {
    this.tracer = tracer ?? trace.getTracer('orgloop');
  }

  /** Spans for one event about to be stored. `traceparent`: the sender's or the causing event's. */
  receive(source: string, event: { id: string; type: string; trace_id: string; hops: number }, traceparent: string | undefined): ReceiveSpan {
    const given = parseTraceparent(traceparent) ? traceparent!.trim().toLowerCase() : undefined;
    if (!this.enabled) return given ? { traceparent: given, routed: noop, end: noop } : NOTHING;
    // nothing given: this event starts a trace (a derived parent would be a span nobody recorded)
    const parent = parentContext(given);
    const span = this.tracer.startSpan(
      `receive ${source}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'orgloop',
          'messaging.operation.type': 'receive',
          'messaging.source.name': source,
          'messaging.message.id': event.id,
          'orgloop.event.type': event.type,
          'orgloop.trace_id': event.trace_id,
          'orgloop.hops': event.hops,
        },
      },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    return {
      traceparent: formatTraceparent(span.spanContext()),
      routed: (routes, cut) => {
        this.tracer
          .startSpan('route', { attributes: { 'orgloop.routes': routes, 'orgloop.routes.cut': cut, 'orgloop.deliveries': routes.length } }, ctx)
          .end();
      },
      end: (error) => {
        if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
        span.end();
      },
    };
  }

  /** Spans for one delivery attempt of an event (its stored `traceparent` is their parent). */
  delivery(d: { id: string; route: string; actor: string; attempts: number; event_id: string }, event: { id: string; trace_id: string; traceparent?: string }): DeliverySpans {
    const traceparent = parseTraceparent(event.traceparent) ? event.traceparent : undefined;
    if (!this.enabled) {
      // nothing recorded: the actor gets the event's context as is, or one derived from its trace
      const tp = traceparent ?? derivedTraceparent(event.trace_id, event.id);
      return { transform: noop, send: () => tp, sent: noop, settle: noop, end: noop };
    }
    const parent = parentContext(traceparent);
    const process = this.tracer.startSpan(
      `process ${d.route}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'orgloop',
          'messaging.operation.type': 'process',
          'messaging.message.id': d.event_id,
          'messaging.destination.name': d.actor,
          'orgloop.route': d.route,
          'orgloop.delivery.id': d.id,
          'orgloop.delivery.attempt': d.attempts,
        },
      },
      parent,
    );
    const ctx = trace.setSpan(parent, process);
    let stepStart = Date.now();
    let send: Span | null = null;
    let settle: Span | null = null;
    return {
      transform: (name, decision, detail) => {
        const now = Date.now();
        const s = this.tracer.startSpan(`transform ${name}`, { startTime: stepStart, attributes: { 'orgloop.transform': name, 'orgloop.transform.decision': decision } }, ctx);
        if (decision === 'error') s.setStatus({ code: SpanStatusCode.ERROR, message: detail ?? 'transform failed' });
        s.end(now);
        stepStart = now;
      },
      send: (actor) => {
        send = this.tracer.startSpan(
          `send ${actor}`,
          { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'orgloop', 'messaging.operation.type': 'send', 'messaging.destination.name': actor, 'orgloop.delivery.id': d.id } },
          ctx,
        );
        return formatTraceparent(send.spanContext());
      },
      sent: (error) => {
        if (!send) return;
        if (error) send.setStatus({ code: SpanStatusCode.ERROR, message: error });
        send.end();
        send = null;
      },
      settle: () => {
        settle = this.tracer.startSpan(`settle ${d.route}`, { attributes: { 'messaging.operation.type': 'settle', 'orgloop.delivery.id': d.id } }, ctx);
      },
      end: (outcome, error) => {
        send?.end();
        if (settle) {
          settle.setAttribute('orgloop.delivery.outcome', outcome);
          settle.end();
        }
        process.setAttribute('orgloop.delivery.outcome', outcome);
        if (error) process.setStatus({ code: SpanStatusCode.ERROR, message: error });
        process.end();
      },
    };
  }
}
