// What a failed HTTP request means for retrying it, for every actor that calls HTTP: which
// answers a later attempt may change, how long the server asked us to wait, and which requests
// cannot be sent at all as built (no retry can fix those, so they fail at once); and what an
// attempt cut short by the executor stopping reports.

import { validateHeaderName } from 'node:http';
import type { DeliveryResult } from '../types.js';

/**
 * The executor is stopping (the request's signal fired): the attempt did not finish, so it goes
 * back to the queue to run again, with no actor.stopped to report. Every actor answers this way.
 */
export function stoppingOutcome(): DeliveryResult {
  return { ok: false, retryable: true, error: 'delivery aborted (executor stopping)' };
}

/** Statuses a later attempt may change: timeouts, conflicts, too early, rate limits, server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 425 || status === 429 || status >= 500;
}

/** Parses Retry-After (delta seconds or an HTTP date) to milliseconds from `now`. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

/** Characters node refuses in a header value (it sends latin-1 bytes; anything past U+00FF cannot go). */
const BAD_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/u;

/**
 * Why these headers cannot be sent, or null when they can. Names the header and the character,
 * never the value (it may hold a token).
 */
export function unsendableHeader(headers: Record<string, string>): string | null {
  for (const [name, value] of Object.entries(headers)) {
    try {
      validateHeaderName(name);
    } catch {
      return `header name ${JSON.stringify(name)} is not a valid HTTP header name`;
    }
    const m = BAD_VALUE_CHAR.exec(value);
    if (m) {
      const code = m[0].codePointAt(0)!;
      const what = code < 0x20 || code === 0x7f ? 'a control character' : `the character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
      return `header ${name} cannot be sent: its value has ${what} at position ${m.index + 1}, which HTTP headers cannot carry (put free text in the body)`;
    }
  }
  return null;
}
