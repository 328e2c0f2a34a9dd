// Retention (DESIGN §4): finished deliveries, their events and log rows older than
// `event_retention` are pruned in small steps. Each step is one short transaction; between steps
// the pruner yields to the event loop, so ingests and completions queue behind at most one step
// (SQLite's write batch runs them together). Pending, retrying and leased deliveries are never
// pruned. Dedupe keys are kept for max(retention, 72 h): GitHub redelivers for up to three days.
// Inbox entries go once past their route's `inbox_ttl`, whatever the retention: a key nobody
// enqueues to or drains again would otherwise keep its expired entries for ever.
// With several executors on one store, the one holding the `retention` lease prunes.

import type { LogEntry } from '../../providers/types.js';
import type { Coordination, PruneCounts, Retention } from '../../state/store.js';

/** The senders' redelivery horizon: GitHub keeps redelivering for up to 3 days. */
export const DEDUPE_HORIZON_MS = 72 * 3_600_000;
const LEASE = 'retention';

export interface PrunerOptions {
  store: Retention & Pick<Coordination, 'acquireLease' | 'releaseLease'>;
  owner: string;
  retentionMs: number;
  log: (e: LogEntry) => void;
  /** rows of each kind per step */
  stepRows?: number;
  /** between rounds; by default a tenth of the retention, between 1 s and 1 min */
  intervalMs?: number;
  now?: () => number;
}

export class Pruner {
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private stopped = false;
  private readonly stepRows: number;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(private readonly o: PrunerOptions) {
    this.stepRows = o.stepRows ?? 500;
    this.intervalMs = o.intervalMs ?? Math.min(60_000, Math.max(1000, Math.floor(o.retentionMs / 10)));
    this.now = o.now ?? Date.now;
  }

  /**
   * The first round runs at once: what piled up while no executor ran goes first, and on Postgres
   * today's log partitions exist before the day's rows arrive (they would land in the default
   * partition and be moved later), so the rounds of a settled executor find nothing to do.
   */
  start(): void {
    this.schedule(0);
  }

  /**
   * Rounds that pruned nothing in a row: the next round waits twice as long each time, up to 8
   * intervals and never past a tenth of the retention, so an idle store is not asked every minute
   * and old rows still go within 10% of the retention of when they could.
   */
  private idleRounds = 0;

  private delay(): number {
    const cap = Math.max(this.intervalMs, Math.min(this.intervalMs * 8, this.o.retentionMs / 10));
    return Math.min(cap, this.intervalMs * 2 ** this.idleRounds);
  }

  private schedule(delay = this.delay()): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.round = this.prune()
        .then((n) => {
          this.idleRounds = Object.values(n).some((c) => c > 0) ? 0 : Math.min(this.idleRounds + 1, 10);
        })
        .catch((err: unknown) => this.o.log(entry('warn', `retention: pruning failed, will retry: ${(err as Error).message}`)))
        .finally(() => {
          this.round = null;
          this.schedule();
        });
    }, delay);
    this.timer.unref();
  }

  /** One round: steps until a step finds less than a full batch of anything. */
  async prune(): Promise<PruneCounts> {
    const total: PruneCounts = { deliveries: 0, events: 0, log: 0, dedupe_keys: 0, inbox: 0 };
    const { store, owner, retentionMs } = this.o;
    if ((await store.acquireLease(LEASE, owner, this.delay() * 3)) === null) return total;
    for (;;) {
      const now = this.now();
      const n = await store.prune({
        before: now - retentionMs,
        keysBefore: now - Math.max(retentionMs, DEDUPE_HORIZON_MS),
        limit: this.stepRows,
      });
      for (const k of Object.keys(total) as Array<keyof PruneCounts>) total[k] += n[k];
      if (this.stopped || Object.values(n).every((c) => c < this.stepRows)) break;
      await new Promise<void>((r) => setImmediate(r));
    }
    if (Object.values(total).some((c) => c > 0)) {
      this.o.log({
        ...entry('debug', `retention: pruned ${total.deliveries} deliveries, ${total.events} events, ${total.log} log rows, ${total.dedupe_keys} dedupe keys, ${total.inbox} expired inbox entries`),
        data: { ...total },
      });
    }
    return total;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.round;
    await this.o.store.releaseLease(LEASE, this.o.owner).catch(() => {});
  }
}

function entry(level: LogEntry['level'], message: string): LogEntry {
  return { time: new Date().toISOString(), phase: 'retention.prune', level, message };
}
