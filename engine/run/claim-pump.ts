// The claim pump: takes due deliveries from the store into free slots. Woken in-process when
// something may be claimable (deliveries queued at ingest, a slot freed while a backlog is
// known, a new apply, a peer's NOTIFY, the executor's beat on Postgres), and otherwise polling for
// work other executors queued or that became due (retries, expired leases).

import type { LogEntry } from '../../providers/types.js';
import type { Delivery, DeliveryQueue } from '../../state/store.js';
import type { Slots } from './slots.js';

export interface ClaimPumpDeps {
  store: Pick<DeliveryQueue, 'claim' | 'claimable'>;
  owner: string;
  leaseMs: number;
  pollMs: number;
  slots: Slots;
  log: (e: LogEntry) => void;
  /** runs a claimed delivery in the slot it took */
  run: (dl: Delivery) => void;
}

export class ClaimPump {
  private pumping = false;
  private again = false;
  private stopped = false;
  private wakeScheduled = false;
  private pollTimer: NodeJS.Timeout | null = null;
  private claimErrorAt = 0;

  constructor(private readonly d: ClaimPumpDeps) {}

  /** `poll` false: someone else looks for work periodically and wakes the pump (Postgres beats) */
  start(poll = true): void {
    if (poll) {
      this.pollTimer = setInterval(() => void this.poll(), this.d.pollMs);
      this.pollTimer.unref();
    }
    this.wake();
  }

  stop(): void {
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
  }

  /**
   * Something may be claimable: claim soon. Wakes in the same event-loop turn (a batch of
   * completions, a burst of ingests) share one claim.
   */
  wake(): void {
    if (this.stopped) return;
    this.d.slots.backlog = true;
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

  /** A slot freed: only worth a claim when the last claim suggested more work is waiting. */
  slotFreed(): void {
    if (this.d.slots.backlog) this.wake();
  }

  /**
   * The poll tick: work queued by others or now due (retries, expired leases) may be waiting.
   * Only a probe that finds some marks a backlog: a speculative one would send every new
   * delivery through the store queue while the slots are full.
   */
  private async poll(): Promise<void> {
    if (this.stopped) return;
    if (this.d.slots.backlog) return this.wake();
    let found: boolean;
    try {
      found = await this.d.store.claimable();
    } catch {
      found = true; // let the claim report the store's trouble
    }
    if (found) this.wake();
  }

  private async pump(): Promise<void> {
    const { store, owner, leaseMs, slots } = this.d;
    this.pumping = true;
    try {
      do {
        this.again = false;
        while (!this.stopped) {
          const free = slots.free;
          if (free <= 0) break;
          let batch: Delivery[];
          try {
            batch = await store.claim(owner, free, leaseMs);
          } catch (err) {
            const now = Date.now();
            if (now - this.claimErrorAt > 10_000) {
              this.claimErrorAt = now;
              this.d.log({ time: new Date().toISOString(), phase: 'executor.error', level: 'error', message: `could not claim deliveries: ${(err as Error).message}` });
            }
            break;
          }
          for (const dl of batch) {
            if (dl.reclaimed) {
              // a crashed or stalled worker's delivery: counted (orgloop_leases_reclaimed_total) and in its trace
              this.d.log({
                time: new Date().toISOString(),
                phase: 'deliver.reclaim',
                level: 'warn',
                route: dl.route,
                actor: dl.actor,
                event_id: dl.event_id,
                delivery_id: dl.id,
                message: `reclaimed ${dl.id}: its lease had expired or its executor is gone (attempt ${dl.attempts})`,
              });
            }
            slots.take();
            this.d.run(dl);
          }
          if (batch.length < free) {
            slots.backlog = false;
            break;
          }
        }
      } while (this.again && !this.stopped);
    } finally {
      this.pumping = false;
    }
  }
}
