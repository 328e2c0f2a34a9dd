// Delivery workers: run deliveries in the slots they took, one attempt each (delivery.ts), then
// record the outcome (outcome.ts). Deliveries come from two places: Slots, where intake puts
// the ones it leased to this executor at ingest, and the claim pump, which takes due ones from
// the store. The workers keep the leases of everything they hold alive and release it on stop.

import type { TransformStore } from '../../providers/types.js';
import type { Delivery, Store } from '../../state/store.js';
import { ClaimPump } from './claim-pump.js';
import { attempt, type DeliveryDeps } from './delivery.js';
import type { EventMemory } from './event-memory.js';
import { OutcomeRecorder } from './outcome.js';
import type { Slots } from './slots.js';
import { Tracing } from './tracing.js';

export interface WorkerDeps extends Omit<DeliveryDeps, 'memory' | 'readEvent' | 'transformStore' | 'tracing'> {
  store: Store;
  owner: string;
  slots: Slots;
  memory: EventMemory;
  leaseMs: number;
  pollMs: number;
  /** spans of each delivery (default: none recorded, traceparents still handed to actors) */
  tracing?: Tracing;
}

const UNTRACED = new Tracing(false);

export class DeliveryWorkers {
  private readonly inflight = new Map<string, AbortController>();
  private readonly idle: Array<() => void> = [];
  private readonly pump: ClaimPump;
  private readonly recorder: OutcomeRecorder;
  private readonly attemptDeps: DeliveryDeps;
  private leaseTimer: NodeJS.Timeout | null = null;

  constructor(private readonly d: WorkerDeps) {
    const { store, owner, slots, log } = d;
    this.pump = new ClaimPump({ store, owner, leaseMs: d.leaseMs, pollMs: d.pollMs, slots, log, run: (dl) => this.run(dl, false) });
    this.recorder = new OutcomeRecorder(store, owner, log, () => this.pump.wake());
    const transformStores = new Map<string, TransformStore>();
    this.attemptDeps = {
      ...d,
      tracing: d.tracing ?? UNTRACED,
      readEvent: async (id) => (await store.event(id))?.event_json ?? null,
      transformStore: (scope) => {
        let s = transformStores.get(scope);
        if (!s) transformStores.set(scope, (s = { seen: (key, windowMs) => store.seen(scope, key, windowMs) }));
        return s;
      },
    };
    slots.serve({ admitted: () => this.startWaiting(), queued: () => this.pump.wake() });
  }

  /** `poll` false: the claim pump does not poll; the executor wakes it (see ClaimPump.start) */
  start(poll = true): void {
    this.leaseTimer = setInterval(() => void this.extendLeases(), Math.max(1000, Math.floor(this.d.leaseMs / 3)));
    this.leaseTimer.unref();
    this.pump.start(poll);
  }

  get active(): number {
    return this.inflight.size;
  }

  /** Something may be claimable (a new apply, work queued elsewhere): claim soon. */
  wake(): void {
    this.pump.wake();
  }

  private startWaiting(): void {
    for (let q = this.d.slots.next(); q; q = this.d.slots.next()) this.run(q.delivery, q.held);
  }

  private run(dl: Delivery, held: boolean): void {
    const ac = new AbortController();
    this.inflight.set(dl.id, ac);
    void attempt(dl, held, ac, this.attemptDeps)
      .then(async (a) => {
        a.spans?.settle();
        const recorded = await this.recorder.record(dl, a.outcome, a.ctx, a.maxAttempts);
        a.spans?.end(recorded, a.outcome.kind === 'retry' || a.outcome.kind === 'dead' ? a.outcome.error : undefined);
      })
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
        this.d.slots.release();
        this.startWaiting();
        if (this.inflight.size === 0) for (const f of this.idle.splice(0)) f();
        // A slot freed: there may be more due work than the last claim could take.
        this.pump.slotFreed();
      });
  }

  private async extendLeases(): Promise<void> {
    const ids = [...this.inflight.keys(), ...this.d.slots.waitingIds()];
    if (ids.length === 0) return;
    try {
      const lost = new Set(await this.d.store.extendLeases(this.d.owner, ids, this.d.leaseMs));
      if (lost.size === 0) return;
      for (const id of lost) this.inflight.get(id)?.abort(new Error('lease lost'));
      // a waiting delivery whose lease another worker took is theirs now: drop it here
      for (const q of this.d.slots.dropLost(lost)) if (q.held) this.d.memory.release(q.delivery.event_id);
    } catch {
      // Next tick retries; if leases do expire, fencing keeps completions correct.
    }
  }

  /** Stop claiming; wait up to graceMs for in-flight deliveries, then abort the rest. */
  async stop(graceMs: number): Promise<number> {
    this.pump.stop();
    // waiting deliveries stay leased to us: releaseAll hands them back
    for (const q of this.d.slots.close()) if (q.held) this.d.memory.release(q.delivery.event_id);
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
