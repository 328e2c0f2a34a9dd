// Delivery workers: claim due deliveries with a lease, run the route's transforms, call the
// actor, and complete with fencing. Woken in-process right after a local ingest, and otherwise
// polling for work that other executors queued or that became due (retries).

import type { DeliveryResult, LogEntry, OrgEvent, TransformStore } from '../../providers/types.js';
import type { Delivery, Store } from '../../state/store.js';
import { renderDeep } from '../../providers/lib/template.js';
import { isoTime } from '../../state/iso-time.js';
import { retryDelay, type BackoffPolicy } from './backoff.js';
import type { RuntimeActor, RuntimeRoute } from './graph.js';
import type { EventCache } from './intake.js';
import { runTransforms } from './pipeline.js';
import { Tracing, type DeliverySpans } from './tracing.js';

export interface Target {
  actor: RuntimeActor;
  /** null when the route is gone from every graph we can reach: deliver plainly to the actor */
  route: RuntimeRoute | null;
}

export interface WorkerDeps {
  store: Store;
  owner: string;
  cache: EventCache;
  backoff: BackoffPolicy;
  log: (e: LogEntry) => void;
  /** whether entries of a level are written anywhere (unset: all are) */
  logs?: (level: LogEntry['level']) => boolean;
  /** the actor/route to use for a delivery, or a reason to cancel it */
  resolve(d: Delivery): Promise<Target | { cancel: string }>;
  /** emit actor.stopped for a finished delivery (committed before the delivery completes) */
  stopped(d: Delivery, parent: OrgEvent, result: NonNullable<DeliveryResult['stopped']>): Promise<void>;
  concurrency: number;
  /**
   * How many deliveries leased at ingest may wait here for a slot beyond the running ones.
   * Their leases are kept alive with the running ones'; peers cannot take them meanwhile.
   */
  prefetch: number;
  leaseMs: number;
  pollMs: number;
  /** spans of each delivery (default: none recorded, traceparents still handed to actors) */
  tracing?: Tracing;
}

type Outcome = { kind: 'complete' } | { kind: 'retry'; runAt: number; error: string } | { kind: 'dead'; error: string };

/** What the log entries about one delivery share, and its spans once the event is loaded (never copied into entries). */
type DeliveryContext = Pick<LogEntry, 'route' | 'actor' | 'delivery_id' | 'event_id' | 'trace_id' | 'source'> & { spans?: DeliverySpans };

const UNTRACED = new Tracing(false);

/** A log entry about a delivery, its fields copied one by one: spreading the context cost more than the rest of the entry. */
function entry(ctx: DeliveryContext, phase: string, level: LogEntry['level'], message: string, data?: Record<string, unknown>): LogEntry {
  return {
    time: isoTime(),
    phase,
    level,
    source: ctx.source,
    route: ctx.route,
    actor: ctx.actor,
    event_id: ctx.event_id,
    delivery_id: ctx.delivery_id,
    trace_id: ctx.trace_id,
    message,
    data,
  };
}

export class DeliveryWorkers {
  private inflight = new Map<string, AbortController>();
  private pumping = false;
  private again = false;
  private stopping = false;
  private pollTimer: NodeJS.Timeout | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;
  private idle: Array<() => void> = [];
  private readonly transformStores = new Map<string, TransformStore>();
  private claimErrorAt = 0;
  private wakeScheduled = false;
  /** false once a claim came back short: the queue is drained until someone says otherwise */
  private backlog = true;
  /** slots promised to deliveries being leased at ingest (see reserve) */
  private reserved = 0;
  /** deliveries leased at ingest that wait for a free slot, oldest first from `head` */
  private waiting: Delivery[] = [];
  private head = 0;

  constructor(private readonly d: WorkerDeps) {}

  start(): void {
    this.pollTimer = setInterval(() => void this.poll(), this.d.pollMs);
    this.pollTimer.unref();
    this.leaseTimer = setInterval(() => void this.extendLeases(), Math.max(1000, Math.floor(this.d.leaseMs / 3)));
    this.leaseTimer.unref();
    this.wake();
  }

  get active(): number {
    return this.inflight.size;
  }

  /**
   * Something may be claimable: claim soon. Wakes in the same event-loop turn (a batch of
   * completions, a burst of ingests) share one claim.
   */
  wake(): void {
    if (this.stopping) return;
    this.backlog = true;
    if (this.pumping) {
      this.again = true;
      return;
    }
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      if (!this.pumping) void this.pump();
      else this.again = true;
    });
  }

  /**
   * The poll tick: work queued by others or now due (retries, expired leases) may be waiting.
   * Only a probe that finds some marks a backlog: a speculative one would send every new
   * delivery through the store queue while the slots are full.
   */
  private async poll(): Promise<void> {
    if (this.stopping) return;
    if (this.backlog) return this.wake();
    let found: boolean;
    try {
      found = await this.d.store.claimable();
    } catch {
      found = true; // let the claim report the store's trouble
    }
    if (found) this.wake();
  }

  get owner(): string {
    return this.d.owner;
  }

  get leaseMs(): number {
    return this.d.leaseMs;
  }

  private get waitingCount(): number {
    return this.waiting.length - this.head;
  }

  /**
   * Reserves room for `n` deliveries about to be inserted already leased to this executor (lease
   * at ingest: no claim needed): a free slot or a place among the `prefetch` waiting ones.
   * Refused while stopping, when there is no room, or while work queued in the store may be
   * waiting: then new work queues behind it and the claim takes it in order.
   */
  reserve(n: number): boolean {
    if (this.stopping || this.backlog) return false;
    if (this.inflight.size + this.waitingCount + this.reserved + n > this.d.concurrency + this.d.prefetch) return false;
    this.reserved += n;
    return true;
  }

  /** Gives back reserved slots that were not used (ingest failed, duplicate event). */
  unreserve(n: number): void {
    this.reserved = Math.max(0, this.reserved - n);
  }

  /** Runs deliveries inserted leased to this executor, in slots reserved for them. */
  runLeased(ds: Delivery[]): void {
    this.reserved = Math.max(0, this.reserved - ds.length);
    // Stopping: leave them leased; releaseAll hands them back (or the lease expires).
    if (this.stopping) return;
    for (const dl of ds) {
      if (this.waitingCount === 0 && this.inflight.size < this.d.concurrency) this.run(dl);
      else this.waiting.push(dl);
    }
  }

  private nextWaiting(): Delivery | undefined {
    if (this.head === this.waiting.length) return undefined;
    const dl = this.waiting[this.head++]!;
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    return dl;
  }

  /** A slot freed: only worth a claim when the last claim suggested more work is waiting. */
  private slotFreed(): void {
    if (this.backlog) this.wake();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.again = false;
        while (!this.stopping) {
          // waiting deliveries take freed slots before anything is claimed
          const free = this.d.concurrency - this.inflight.size - this.reserved - this.waitingCount;
          if (free <= 0) break;
          let batch: Delivery[];
          try {
            batch = await this.d.store.claim(this.d.owner, free, this.d.leaseMs);
          } catch (err) {
            const now = Date.now();
            if (now - this.claimErrorAt > 10_000) {
              this.claimErrorAt = now;
              this.d.log({ time: new Date().toISOString(), phase: 'executor.error', level: 'error', message: `could not claim deliveries: ${(err as Error).message}` });
            }
            break;
          }
          for (const dl of batch) this.run(dl);
          if (batch.length < free) {
            this.backlog = false;
            break;
          }
        }
      } while (this.again && !this.stopping);
    } finally {
      this.pumping = false;
    }
  }

  private run(dl: Delivery): void {
    const ac = new AbortController();
    this.inflight.set(dl.id, ac);
    void this.process(dl, ac)
      .catch((err) => {
        this.d.log({
          time: new Date().toISOString(),
          phase: 'executor.error',
          level: 'error',
          delivery_id: dl.id,
          route: dl.route,
          message: `delivery ${dl.id} failed unexpectedly: ${(err as Error).message}`,
        });
      })
      .finally(() => {
        this.inflight.delete(dl.id);
        this.d.cache.done(dl.event_id);
        const next = this.stopping ? undefined : this.nextWaiting();
        if (next) return this.run(next);
        if (this.inflight.size === 0) for (const f of this.idle.splice(0)) f();
        // A slot freed: there may be more due work than the last claim could take.
        this.slotFreed();
      });
  }

  private transformStore(scope: string): TransformStore {
    let s = this.transformStores.get(scope);
    if (!s) {
      const store = this.d.store;
      s = { seen: (key, windowMs) => store.seen(scope, key, windowMs) };
      this.transformStores.set(scope, s);
    }
    return s;
  }

  private async loadEvent(id: string): Promise<{ event: OrgEvent; json: string } | null> {
    const cached = this.d.cache.get(id);
    if (cached) return cached;
    const stored = await this.d.store.event(id);
    if (!stored) return null;
    const e = JSON.parse(stored.event_json) as OrgEvent;
    this.d.cache.set(e, stored.event_json);
    return { event: e, json: stored.event_json };
  }

  private async process(dl: Delivery, ac: AbortController): Promise<void> {
    const { store, log } = this.d;
    // trace_id and source are known once the event is loaded; set then, so every entry has one shape
    const trace: DeliveryContext = { route: dl.route, actor: dl.actor, delivery_id: dl.id, event_id: dl.event_id, trace_id: undefined, source: undefined, spans: undefined };

    const target = await this.d.resolve(dl);
    if ('cancel' in target) {
      await store.cancel(dl.id, target.cancel);
      log(entry(trace, 'deliver.cancel', 'warn', target.cancel));
      return;
    }
    const loaded = await this.loadEvent(dl.event_id);
    if (!loaded) {
      await this.finish(dl, { kind: 'dead', error: `event ${dl.event_id} is missing from the store` }, trace, undefined);
      return;
    }
    const original = loaded.event;
    trace.trace_id = original.trace_id;
    trace.source = original.source;
    const spans = (this.d.tracing ?? UNTRACED).delivery(dl, original);
    trace.spans = spans;
    const route = target.route;
    const maxAttempts = route?.maxAttempts ?? 8;

    let event = original;
    if (route && route.transforms.length > 0) {
      const res = await runTransforms(route, structuredClone(original), (s) => this.transformStore(s), (e) => {
        spans.transform(String(e.data?.transform ?? ''), e.phase.slice('transform.'.length), e.message);
        log(entry(trace, e.phase, e.level, e.message ?? '', e.data));
      });
      if (res.action === 'drop') {
        // A drop is a decision, not a failure: the delivery is done.
        await this.finish(dl, { kind: 'complete' }, trace, maxAttempts, `dropped by transform ${res.transform}`);
        return;
      }
      if (res.action === 'error') {
        await this.finish(dl, this.failure(dl, maxAttempts, `transform ${res.transform}: ${res.error}`, true, undefined, route.backoffMs), trace, maxAttempts);
        return;
      }
      event = res.event;
    }

    const timeoutMs = route?.timeoutMs ?? 5 * 60_000;
    const timer = setTimeout(() => ac.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    if (this.d.logs?.('debug') ?? true) log(entry(trace, 'deliver.attempt', 'debug', `attempt ${dl.attempts} to ${dl.actor}`));
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
        routeConfig: route ? renderDeep(route.thenConfig, event) : {},
        timeoutMs,
        signal: ac.signal,
        eventJson: event === original ? loaded.json : undefined,
        traceparent,
      });
    } catch (err) {
      result = { ok: false, error: ac.signal.aborted ? String((ac.signal.reason as Error)?.message ?? 'aborted') : (err as Error).message, retryable: true };
    } finally {
      clearTimeout(timer);
    }
    spans.sent(result.ok ? undefined : result.error);

    if (result.ok) {
      if (result.stopped) {
        try {
          await this.d.stopped(dl, original, result.stopped);
        } catch (err) {
          // The loop must not silently break: retry the delivery so actor.stopped is emitted (it is deduped per delivery).
          await this.finish(dl, this.failure(dl, maxAttempts, `could not record actor.stopped: ${(err as Error).message}`, true, undefined, route?.backoffMs), trace, maxAttempts);
          return;
        }
      }
      await this.finish(dl, { kind: 'complete' }, trace, maxAttempts, undefined, Date.now() - started);
      return;
    }
    const outcome = this.failure(dl, maxAttempts, result.error, result.retryable, result.retryAfterMs, route?.backoffMs);
    if (outcome.kind === 'dead' && result.stopped) {
      // The final outcome of a synchronous actor feeds the loop too (routes may handle failures).
      await this.d.stopped(dl, original, result.stopped).catch((err) =>
        log(entry(trace, 'executor.error', 'error', `could not record actor.stopped: ${(err as Error).message}`)),
      );
    }
    await this.finish(dl, outcome, trace, maxAttempts);
  }

  private failure(dl: Delivery, maxAttempts: number, error: string, retryable: boolean, retryAfterMs?: number, backoffMs?: number | null): Outcome {
    if (!retryable) return { kind: 'dead', error: `${error} (not retryable)` };
    if (dl.attempts >= maxAttempts) return { kind: 'dead', error: `${error} (gave up after ${dl.attempts} attempts)` };
    const policy = backoffMs === null || backoffMs === undefined ? this.d.backoff : { baseMs: backoffMs, capMs: Math.max(this.d.backoff.capMs, backoffMs) };
    return { kind: 'retry', runAt: Date.now() + retryDelay(policy, dl.attempts, retryAfterMs), error };
  }

  private async finish(dl: Delivery, o: Outcome, ctx: DeliveryContext, maxAttempts?: number, note?: string, durationMs?: number): Promise<void> {
    ctx.spans?.settle();
    const outcome = await this.record(dl, o, ctx, maxAttempts, note, durationMs);
    ctx.spans?.end(outcome, o.kind === 'complete' ? undefined : o.error);
  }

  /** Records the outcome (fenced) and logs it; returns what happened, for the delivery's spans. */
  private async record(dl: Delivery, o: Outcome, ctx: DeliveryContext, maxAttempts?: number, note?: string, durationMs?: number): Promise<string> {
    const { store, owner, log } = this.d;
    let held: boolean;
    try {
      held = o.kind === 'complete' ? await store.complete(dl.id, owner) : await store.fail(dl.id, owner, o.error, o.kind === 'retry' ? { runAt: o.runAt } : 'dead');
    } catch (err) {
      // The lease will expire and another attempt will run: at-least-once, never lost.
      log(entry(ctx, 'executor.error', 'error', `could not record the outcome of ${dl.id}: ${(err as Error).message}`));
      return 'unrecorded';
    }
    if (!held) {
      log(entry(ctx, 'deliver.lease_lost', 'warn', `lease on ${dl.id} was lost before completion; another worker owns it now`));
      return 'lease_lost';
    }
    if (o.kind === 'complete') {
      const data: Record<string, unknown> = { attempt: dl.attempts };
      if (durationMs !== undefined) data.duration_ms = durationMs;
      if (note) data.dropped = true;
      const message = note ?? `delivered to ${dl.actor} on attempt ${dl.attempts}${durationMs !== undefined ? ` in ${durationMs} ms` : ''}`;
      log(entry(ctx, 'deliver.success', 'info', message, data));
      return note ? 'dropped' : 'delivered';
    }
    if (o.kind === 'retry') {
      const message = `attempt ${dl.attempts}/${maxAttempts} failed: ${o.error}; retrying in ${Math.max(0, o.runAt - Date.now())} ms`;
      log(entry(ctx, 'deliver.retry', 'warn', message, { attempt: dl.attempts, run_at: new Date(o.runAt).toISOString() }));
      return 'retry';
    }
    log(entry(ctx, 'deliver.dead', 'error', `dead: ${o.error}`, { attempt: dl.attempts }));
    return 'dead';
  }

  private async extendLeases(): Promise<void> {
    const ids = [...this.inflight.keys()];
    for (let i = this.head; i < this.waiting.length; i++) ids.push(this.waiting[i]!.id);
    if (ids.length === 0) return;
    try {
      const lost = new Set(await this.d.store.extendLeases(this.d.owner, ids, this.d.leaseMs));
      if (lost.size === 0) return;
      for (const id of lost) this.inflight.get(id)?.abort(new Error('lease lost'));
      // a waiting delivery whose lease another worker took is theirs now: drop it here
      const kept = this.waiting.slice(this.head).filter((dl) => {
        if (!lost.has(dl.id)) return true;
        this.d.cache.done(dl.event_id);
        return false;
      });
      this.waiting = kept;
      this.head = 0;
    } catch {
      // Next tick retries; if leases do expire, fencing keeps completions correct.
    }
  }

  /** Stop claiming; wait up to graceMs for in-flight deliveries, then abort the rest. */
  async stop(graceMs: number): Promise<number> {
    this.stopping = true;
    // waiting deliveries stay leased to us: releaseAll hands them back
    this.waiting = [];
    this.head = 0;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.inflight.size > 0) {
      await Promise.race([new Promise<void>((r) => this.idle.push(r)), new Promise((r) => setTimeout(r, graceMs))]);
    }
    const aborted = this.inflight.size;
    for (const ac of this.inflight.values()) ac.abort(new Error('executor shutting down'));
    if (aborted > 0) await Promise.race([new Promise<void>((r) => this.idle.push(r)), new Promise((r) => setTimeout(r, 1000))]);
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    return aborted;
  }
}
