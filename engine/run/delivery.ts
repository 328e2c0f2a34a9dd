// One delivery attempt, start to outcome: find the actor and route it goes to (or a reason to
// cancel), load its event, run the route's transforms, call the actor, and emit actor.stopped
// when the actor finished synchronously. Decides the outcome; recording it is OutcomeRecorder's.

import { redact } from '../secrets/index.js';
import type { DeliveryResult, LogEntry, OrgEvent, TransformStore } from '../../providers/types.js';
import type { Delivery } from '../../state/store.js';
import { renderDeep } from '../../providers/lib/template.js';
import type { EventMemory } from './event-memory.js';
import type { RuntimeActor, RuntimeRoute } from './graph.js';
import { afterFailure, deliveryContext, deliveryEntry, type DeliveryContext, type Outcome } from './outcome.js';
import { runTransforms } from './pipeline.js';
import { isNotification, notificationItem } from '../inbox/inbox.js';
import type { InboxSessionInfo } from '../../state/store.js';
import { attemptsOf, withExecutorCap, type RetryPolicy } from './retry.js';
import type { DeliverySpans, Tracing } from './tracing.js';

const DEFAULT_TIMEOUT_MS = 5 * 60_000;

/** Errors node raises for a request that cannot be sent as built (a header it refuses): no retry can fix them. */
const UNSENDABLE = new Set(['ERR_INVALID_CHAR', 'ERR_INVALID_HTTP_TOKEN', 'ERR_HTTP_INVALID_HEADER_VALUE']);

export interface Target {
  actor: RuntimeActor;
  /** null when the route is gone from every graph we can reach: deliver plainly to the actor */
  route: RuntimeRoute | null;
}

export type StoppedReport = NonNullable<DeliveryResult['stopped']>;

export interface DeliveryDeps {
  memory: EventMemory;
  /** an event's JSON as stored, or null when it is gone */
  readEvent(id: string): Promise<string | null>;
  transformStore(scope: string): TransformStore;
  /** the executor's retry policy, for routes without their own */
  retry: RetryPolicy;
  /** the cap of a route's exponential delays (`delivery.backoff`), unless its base is larger */
  backoffCapMs: number;
  log: (e: LogEntry) => void;
  /** whether entries of a level are written anywhere (unset: all are) */
  logs?: (level: LogEntry['level']) => boolean;
  /** the actor/route to use for a delivery, or a reason to cancel it */
  target(d: Delivery): Promise<Target | { cancel: string }>;
  /** the callback address and token an agent reports this delivery's end with */
  callback?(d: Delivery): { url: string; token: string };
  /** emits actor.stopped for a finished delivery (committed before the delivery completes) */
  stopped(d: Delivery, parent: OrgEvent, report: StoppedReport): Promise<void>;
  /** spans of each delivery (traceparents are handed to actors even when none are recorded) */
  tracing: Tracing;
  /** inbox batching: a key's session, and the command an agent drains it with */
  inbox: { session(key: string): Promise<InboxSessionInfo | null>; drainCommand(key: string): string };
}

export interface Attempted {
  outcome: Outcome;
  ctx: DeliveryContext;
  maxAttempts: number;
  /** the attempt's spans, once its event was loaded: settled and ended around the recording */
  spans?: DeliverySpans;
}

/**
 * Runs one attempt of `dl`. `held`: its event's body is already held in memory for it (leased at
 * ingest); otherwise it is read from the store. The body is released before returning.
 */
export async function attempt(dl: Delivery, held: boolean, ac: AbortController, d: DeliveryDeps): Promise<Attempted> {
  const ctx = deliveryContext(dl);
  const target = await d.target(dl);
  if ('cancel' in target) {
    if (held) d.memory.release(dl.event_id);
    return { outcome: { kind: 'cancel', reason: target.cancel }, ctx, maxAttempts: attemptsOf(d.retry) };
  }
  const policy = target.route?.retry ? withExecutorCap(target.route.retry, d.backoffCapMs) : d.retry;
  const maxAttempts = target.route?.maxAttempts ?? attemptsOf(policy);
  const claimed = dl.body;
  // a body that came with the claim is not kept on the delivery past this point
  if (claimed !== undefined) dl.body = undefined;
  const read = claimed === undefined ? d.readEvent : async () => claimed;
  const body = (held ? d.memory.get(dl.event_id) : undefined) ?? (await d.memory.acquire(dl.event_id, read));
  if (!body) return { outcome: { kind: 'dead', error: `event ${dl.event_id} is missing from the store` }, ctx, maxAttempts };
  try {
    ctx.trace_id = body.event.trace_id;
    ctx.source = body.event.source;
    const spans = d.tracing.delivery(dl, body.event);
    return { outcome: await deliver(dl, target, body.event, body.json, ac, ctx, maxAttempts, policy, spans, d), ctx, maxAttempts, spans };
  } finally {
    d.memory.release(dl.event_id);
  }
}

async function deliver(
  dl: Delivery,
  target: Target,
  original: OrgEvent,
  json: string,
  ac: AbortController,
  ctx: DeliveryContext,
  maxAttempts: number,
  policy: RetryPolicy,
  spans: DeliverySpans,
  d: DeliveryDeps,
): Promise<Outcome> {
  const { route } = target;
  const fail = (f: { error: string; retryable: boolean; retryAfterMs?: number }) => afterFailure(dl, maxAttempts, f, policy);
  let event = original;
  let routeConfig: Record<string, unknown> | null = null;
  let routeTemplate = route?.thenConfig;
  if (isNotification(original)) {
    // an inbox notification: told how many wait now, not when it was queued; no transforms
    const key = String(original.payload.session_key ?? '');
    const session = await d.inbox.session(key);
    if (!session || session.notify_delivery_id !== dl.id) return { kind: 'complete', note: `inbox ${key} was drained since: this notification is superseded` };
    if (session.pending === 0) return { kind: 'complete', note: `inbox ${key} is empty: nothing to notify` };
    event = { ...original, payload: { ...original.payload, pending_count: session.pending, oldest_event_at: session.oldest_enqueued_at === null ? null : new Date(session.oldest_enqueued_at).toISOString() } };
    routeConfig = JSON.parse(session.route_config) as Record<string, unknown>;
    // template-rendering actors see the key from the notification itself (the first event's
    // other per-event values mean nothing for a batch)
    if (route) routeTemplate = { ...route.thenConfig, session_key: '{{payload.session_key}}' };
  } else if (route && route.transforms.length > 0) {
    const res = await runTransforms(route, structuredClone(original), d.transformStore, (e) => {
      spans.transform(String(e.data?.transform ?? ''), e.phase.slice('transform.'.length), e.message);
      d.log(deliveryEntry(ctx, e.phase, e.level, e.message ?? '', e.data));
    });
    // A drop is a decision, not a failure: the delivery is done.
    if (res.action === 'drop') return { kind: 'complete', note: `dropped by transform ${res.transform}` };
    if (res.action === 'error') return fail({ error: `transform ${res.transform}: ${res.error}`, retryable: true });
    event = res.event;
  }
  if (route?.inbox && !isNotification(original)) {
    const rendered = renderDeep(route.thenConfig, event);
    const key = typeof rendered.session_key === 'string' ? rendered.session_key : '';
    if (key) {
      return {
        kind: 'inbox',
        entry: {
          delivery_id: dl.id,
          session_key: key,
          route: dl.route,
          actor: dl.actor,
          event_id: original.id,
          event_json: event === original ? json : JSON.stringify(event),
          ttl_ms: route.inbox.ttlMs,
          route_config: JSON.stringify(rendered),
          max_batch: route.inbox.maxBatch,
          notify: notificationItem({ key, route: dl.route, actor: dl.actor, serial: dl.state_serial, drainCommand: d.inbox.drainCommand(key), cause: original }),
        },
      };
    }
    d.log(deliveryEntry(ctx, 'inbox.skip', 'warn', `session_key rendered empty for this event: delivered directly, not batched`));
  }

  const timeoutMs = route?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timer = setTimeout(() => ac.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  timer.unref();
  if (d.logs?.('debug') ?? true) d.log(deliveryEntry(ctx, 'deliver.attempt', 'debug', `attempt ${dl.attempts} to ${dl.actor}`));
  let result: DeliveryResult;
  const started = Date.now();
  const traceparent = spans.send(dl.actor);
  try {
    result = await target.actor.provider.deliver(target.actor.ctx, {
      delivery_id: dl.id,
      attempt: dl.attempts,
      route: dl.route,
      event,
      prompt: route?.prompt ?? null,
      routeConfig: routeConfig ?? (route ? renderDeep(route.thenConfig, event) : {}),
      routeTemplate: routeTemplate ?? {},
      timeoutMs,
      signal: ac.signal,
      eventJson: event === original ? json : JSON.stringify(event),
      traceparent,
      callback: d.callback?.(dl),
    });
  } catch (err) {
    const unsendable = UNSENDABLE.has((err as NodeJS.ErrnoException)?.code ?? '');
    result = { ok: false, error: ac.signal.aborted ? String((ac.signal.reason as Error)?.message ?? 'aborted') : (err as Error).message, retryable: !unsendable };
  } finally {
    clearTimeout(timer);
  }
  // An actor's answer may echo a credential (a 401 body quoting `Bearer <token>`): every known
  // secret value is scrubbed before the error or output is stored, logged or printed.
  result = scrubbed(result);
  spans.sent(result.ok ? undefined : result.error);

  if (result.ok) {
    if (result.stopped) {
      try {
        await d.stopped(dl, original, result.stopped);
      } catch (err) {
        // The loop must not silently break: retry the delivery so actor.stopped is emitted (it is deduped per delivery).
        return fail({ error: `could not record actor.stopped: ${(err as Error).message}`, retryable: true });
      }
    }
    return { kind: 'complete', durationMs: Date.now() - started };
  }
  const outcome = fail(result);
  if (outcome.kind === 'dead' && result.stopped) {
    // The final outcome of a synchronous actor feeds the loop too (routes may handle failures).
    await d.stopped(dl, original, result.stopped).catch((err) => d.log(deliveryEntry(ctx, 'executor.error', 'error', `could not record actor.stopped: ${(err as Error).message}`)));
  }
  return outcome;
}

function scrubbed(r: DeliveryResult): DeliveryResult {
  const stopped = r.stopped?.output_tail ? { ...r.stopped, output_tail: redact(r.stopped.output_tail) } : r.stopped;
  if (r.ok) return stopped === r.stopped ? r : { ...r, stopped };
  return { ...r, error: redact(r.error), ...(stopped ? { stopped } : {}) };
}
