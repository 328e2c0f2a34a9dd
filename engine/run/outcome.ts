// Outcomes of delivery attempts: what a failure leads to (retry when, or dead), and recording an
// outcome in the store, fenced by the lease, with its log entry.

import type { LogEntry } from '../../providers/types.js';
import type { Delivery, DeliveryControl, DeliveryQueue, Inbox, InboxEnqueue } from '../../state/store.js';
import { isoTime } from '../../state/iso-time.js';
import { retryDelay, type RetryPolicy } from './retry.js';

export type Outcome =
  | { kind: 'complete'; note?: string; durationMs?: number }
  | { kind: 'retry'; runAt: number; error: string }
  | { kind: 'dead'; error: string }
  | { kind: 'cancel'; reason: string }
  /** an inbox route's event: waits in the key's inbox (completing the delivery in the same transaction) */
  | { kind: 'inbox'; entry: Omit<InboxEnqueue, 'owner'> };

/** What the log entries about one delivery share. */
export type DeliveryContext = Pick<LogEntry, 'route' | 'actor' | 'delivery_id' | 'event_id' | 'trace_id' | 'source'>;

/** A delivery's context before its event is loaded; trace_id and source are set then, so every entry has one shape. */
export function deliveryContext(dl: Delivery): DeliveryContext {
  return { route: dl.route, actor: dl.actor, delivery_id: dl.id, event_id: dl.event_id, trace_id: undefined, source: undefined };
}

/** A log entry about a delivery, its fields copied one by one: spreading the context cost more than the rest of the entry. */
export function deliveryEntry(ctx: DeliveryContext, phase: string, level: LogEntry['level'], message: string, data?: Record<string, unknown>): LogEntry {
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

export interface FailedAttempt {
  error: string;
  retryable: boolean;
  retryAfterMs?: number;
}

/** Retry later, or dead when the error cannot be retried or the attempts are used up. */
export function afterFailure(dl: Delivery, maxAttempts: number, f: FailedAttempt, policy: RetryPolicy): Outcome {
  if (!f.retryable) return { kind: 'dead', error: `${f.error} (not retryable)` };
  if (dl.attempts >= maxAttempts) return { kind: 'dead', error: `${f.error} (gave up after ${dl.attempts} attempts)` };
  return { kind: 'retry', runAt: Date.now() + retryDelay(policy, dl.attempts, f.retryAfterMs), error: f.error };
}

/** Writes outcomes: only the lease holder's count (fencing); a lost lease or a store error is logged, never thrown. */
export class OutcomeRecorder {
  constructor(
    private readonly store: DeliveryQueue & Pick<DeliveryControl, 'cancel'> & Pick<Inbox, 'inboxEnqueue'>,
    private readonly owner: string,
    private readonly log: (e: LogEntry) => void,
    /** work was queued in the store (an inbox notification): claim soon */
    private readonly onQueued?: () => void,
  ) {}

  /** Records the outcome and logs it; returns what happened (for the delivery's spans). */
  async record(dl: Delivery, o: Outcome, ctx: DeliveryContext, maxAttempts: number): Promise<string> {
    const { store, owner, log } = this;
    if (o.kind === 'cancel') {
      await store.cancel(dl.id, o.reason);
      log(deliveryEntry(ctx, 'deliver.cancel', 'warn', o.reason));
      return 'cancelled';
    }
    if (o.kind === 'inbox') return this.enqueue(dl, o.entry, ctx);
    let held: boolean;
    try {
      held = o.kind === 'complete' ? await store.complete(dl.id, owner) : await store.fail(dl.id, owner, o.error, o.kind === 'retry' ? { runAt: o.runAt } : 'dead');
    } catch (err) {
      // The lease will expire and another attempt will run: at-least-once, never lost.
      log(deliveryEntry(ctx, 'executor.error', 'error', `could not record the outcome of ${dl.id}: ${(err as Error).message}`));
      return 'unrecorded';
    }
    if (!held) {
      log(deliveryEntry(ctx, 'deliver.lease_lost', 'warn', `lease on ${dl.id} was lost before completion; another worker owns it now`));
      return 'lease_lost';
    }
    if (o.kind === 'complete') {
      const data: Record<string, unknown> = { attempt: dl.attempts };
      if (o.durationMs !== undefined) data.duration_ms = o.durationMs;
      if (o.note) data.dropped = true;
      const message = o.note ?? `delivered to ${dl.actor} on attempt ${dl.attempts}${o.durationMs !== undefined ? ` in ${o.durationMs} ms` : ''}`;
      log(deliveryEntry(ctx, 'deliver.success', 'info', message, data));
      return o.note ? 'dropped' : 'delivered';
    }
    if (o.kind === 'retry') {
      const message = `attempt ${dl.attempts}/${maxAttempts} failed: ${o.error}; retrying in ${Math.max(0, o.runAt - Date.now())} ms`;
      log(deliveryEntry(ctx, 'deliver.retry', 'warn', message, { attempt: dl.attempts, run_at: new Date(o.runAt).toISOString() }));
      return 'retry';
    }
    log(deliveryEntry(ctx, 'deliver.dead', 'error', `dead: ${o.error}`, { attempt: dl.attempts }));
    return 'dead';
  }

  private async enqueue(dl: Delivery, entry: Omit<InboxEnqueue, 'owner'>, ctx: DeliveryContext): Promise<string> {
    const { store, owner, log } = this;
    let r: { held: boolean; notified: boolean };
    try {
      r = await store.inboxEnqueue({ ...entry, owner });
    } catch (err) {
      log(deliveryEntry(ctx, 'executor.error', 'error', `could not add ${dl.id} to inbox ${entry.session_key}: ${(err as Error).message}`));
      return 'unrecorded';
    }
    if (!r.held) {
      log(deliveryEntry(ctx, 'deliver.lease_lost', 'warn', `lease on ${dl.id} was lost before completion; another worker owns it now`));
      return 'lease_lost';
    }
    log(deliveryEntry(ctx, 'deliver.success', 'info', `added to inbox ${entry.session_key}${r.notified ? `; ${dl.actor} notified` : ''}`, { attempt: dl.attempts, inbox: entry.session_key }));
    if (r.notified) {
      log(deliveryEntry(ctx, 'inbox.notify', 'info', `inbox ${entry.session_key}: notification queued for ${dl.actor}`, { inbox: entry.session_key }));
      this.onQueued?.();
    }
    return 'inbox';
  }
}
