// When a failed delivery is tried again. The default rides out a day-long outage the way the
// webhook senders people trust do (Standard Webhooks, Svix): a schedule of seconds, then
// minutes, then hours, each delay jittered so a crowd of failing deliveries spreads out, the
// attempts spanning more than a day. A route may give its own schedule (`delivery.retry`) or,
// as before schedules existed, an exponential base (`delivery.backoff`). Retry-After is a floor.

import { parseDuration } from '../../providers/lib/duration.js';

export type RetryPolicy =
  /** delays before retry 1, 2, ...; past the list the last one repeats; each jittered by +-JITTER */
  | { kind: 'schedule'; delaysMs: number[] }
  /**
   * Full jitter: uniform in [0, min(cap, base * 2^(n-1))] before retry n (AWS architecture blog).
   * A route's (`delivery.backoff`) leaves the cap to the executor: max(its cap, the base).
   */
  | { kind: 'exponential'; baseMs: number; capMs?: number };

/** Delays before each retry of the default schedule: 9 attempts over 30-45 hours. */
export const DEFAULT_RETRY_SCHEDULE: readonly string[] = Object.freeze(['5s', '5m', '30m', '2h', '5h', '10h', '10h', '10h']);
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = Object.freeze(DEFAULT_RETRY_SCHEDULE.map(parseDuration));

/** How far a scheduled delay may move either way. */
export const JITTER = 0.2;

/** Attempts of an exponential policy (and of routes that set `backoff` without `max_attempts`). */
const EXPONENTIAL_ATTEMPTS = 8;

export function defaultRetry(): RetryPolicy {
  return { kind: 'schedule', delaysMs: [...DEFAULT_RETRY_SCHEDULE_MS] };
}

/** Attempts before a delivery is dead when the route does not say: the first plus one per scheduled delay. */
/** A route's policy completed by the executor's: an exponential one without a cap takes max(the executor's cap, its base). */
export function withExecutorCap(route: RetryPolicy, capMs: number): RetryPolicy {
  return route.kind === 'exponential' && route.capMs === undefined ? { ...route, capMs: Math.max(capMs, route.baseMs) } : route;
}

export function attemptsOf(policy: RetryPolicy): number {
  return policy.kind === 'schedule' ? policy.delaysMs.length + 1 : EXPONENTIAL_ATTEMPTS;
}

/**
 * Delay before the next attempt after `attempt` attempts have failed (attempt >= 1); a
 * `Retry-After` the actor answered is a floor.
 */
export function retryDelay(policy: RetryPolicy, attempt: number, retryAfterMs?: number, random: () => number = Math.random): number {
  const n = Math.max(attempt, 1);
  let delay: number;
  if (policy.kind === 'schedule') {
    const d = policy.delaysMs[Math.min(n, policy.delaysMs.length) - 1] ?? 0;
    delay = Math.round(d * (1 - JITTER + 2 * JITTER * random()));
  } else {
    delay = Math.floor(random() * Math.min(policy.capMs ?? Infinity, policy.baseMs * 2 ** Math.min(n - 1, 30)));
  }
  return retryAfterMs !== undefined && retryAfterMs > delay ? retryAfterMs : delay;
}
