import { describe, expect, it } from 'vitest';
import { attemptsOf, DEFAULT_RETRY_SCHEDULE_MS, defaultRetry, JITTER, retryDelay } from './retry.js';

const DAY = 86_400_000;

describe('retry policy', () => {
  it('the default schedule: seconds, minutes, then hours, its attempts spread over more than a day even at the least jitter', () => {
    const p = defaultRetry();
    expect(attemptsOf(p)).toBe(9);
    const low = () => 0;
    const high = () => 0.999999;
    const span = (random: () => number) => Array.from({ length: 8 }, (_, i) => retryDelay(p, i + 1, undefined, random)).reduce((a, b) => a + b, 0);
    expect(retryDelay(p, 1, undefined, low)).toBe(4000);
    expect(retryDelay(p, 1, undefined, high)).toBe(6000);
    expect(span(low)).toBeGreaterThan(DAY);
    expect(span(high)).toBeLessThan(2 * DAY);
    expect(DEFAULT_RETRY_SCHEDULE_MS[0]).toBeLessThan(60_000);
    expect(DEFAULT_RETRY_SCHEDULE_MS.at(-1)).toBeGreaterThanOrEqual(3_600_000);
  });

  it('each delay moves at most JITTER either way; past the list the last delay repeats; Retry-After is a floor', () => {
    const p = { kind: 'schedule' as const, delaysMs: [100, 1000] };
    for (let i = 0; i < 200; i++) {
      const d = retryDelay(p, 2);
      expect(d).toBeGreaterThanOrEqual(1000 * (1 - JITTER));
      expect(d).toBeLessThanOrEqual(1000 * (1 + JITTER));
    }
    expect(retryDelay(p, 7, undefined, () => 0.5)).toBe(1000);
    expect(retryDelay(p, 1, 5000, () => 0.5)).toBe(5000);
    expect(retryDelay(p, 1, 10, () => 0.5)).toBe(100);
  });

  it('the exponential policy (delivery.backoff, ORGLOOP_BACKOFF_BASE_MS) is unchanged: full jitter under a doubling cap', () => {
    const p = { kind: 'exponential' as const, baseMs: 1000, capMs: 5000 };
    expect(attemptsOf(p)).toBe(8);
    expect(retryDelay(p, 1, undefined, () => 0.999)).toBe(999);
    expect(retryDelay(p, 3, undefined, () => 0.5)).toBe(2000);
    expect(retryDelay(p, 10, undefined, () => 0.999)).toBe(4995);
    expect(retryDelay(p, 1, 3000, () => 0)).toBe(3000);
  });
});
