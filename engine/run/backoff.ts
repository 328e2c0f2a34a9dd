// Retry timing: exponential backoff with full jitter (AWS architecture blog), floored by Retry-After.

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

/** Defaults: 1 s base, 5 min cap. ORGLOOP_BACKOFF_BASE_MS / ORGLOOP_BACKOFF_CAP_MS shorten them (tests, demos). */
export function backoffFromEnv(env: NodeJS.ProcessEnv = process.env): BackoffPolicy {
  const base = Number(env.ORGLOOP_BACKOFF_BASE_MS);
  const cap = Number(env.ORGLOOP_BACKOFF_CAP_MS);
  const baseMs = Number.isFinite(base) && base >= 0 && env.ORGLOOP_BACKOFF_BASE_MS !== undefined ? base : 1000;
  const capMs = Number.isFinite(cap) && cap > 0 ? cap : Math.max(baseMs, 5 * 60_000);
  return { baseMs, capMs };
}

/**
 * Delay before the next attempt after `attempt` attempts have failed (attempt >= 1).
 * Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))], so a crowd of failing deliveries spreads out.
 */
export function retryDelay(policy: BackoffPolicy, attempt: number, retryAfterMs?: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  const jittered = Math.floor(random() * exp);
  if (retryAfterMs !== undefined && retryAfterMs > jittered) return Math.min(retryAfterMs, Math.max(policy.capMs, retryAfterMs));
  return jittered;
}
