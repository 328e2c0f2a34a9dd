// Retry timing: exponential backoff with full jitter (AWS architecture blog), floored by Retry-After.

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
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
