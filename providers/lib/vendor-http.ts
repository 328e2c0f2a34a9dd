// JSON over HTTPS for the vendor connectors (Zendesk, PagerDuty, Salesforce, Slack): one
// request, its rate-limit answer (429 / 503 with Retry-After, as seconds or an HTTP date) and
// its errors as typed exceptions, so each connector decides what a failure means for its cursor
// (stop the poll and keep what it has) or for a delivery (retry or give up).

import { fetchErrorText } from './fetch-error.js';
import { stoppingOutcome } from './http-outcome.js';
import type { DeliveryResult, EmittedEvent, Logger, PollResult } from '../types.js';

export class RateLimitedError extends Error {
  constructor(
    readonly vendor: string,
    /** epoch ms: do not ask again before this */
    readonly retryAt: number,
  ) {
    super(`${vendor} rate limit reached; retrying after ${new Date(retryAt).toISOString()}`);
    this.name = 'RateLimitedError';
  }
}

export class VendorApiError extends Error {
  constructor(
    readonly vendor: string,
    /** 0 when no answer came (network, timeout) */
    readonly status: number,
    message: string,
    /** a later retry may succeed (network, 408, 409, 425, 5xx) */
    readonly retryable: boolean,
    /** the parsed error body, when JSON */
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'VendorApiError';
  }
}

/** Milliseconds a Retry-After header asks for (delta seconds or HTTP date), or undefined. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

export interface VendorRequest {
  method?: string;
  headers?: Record<string, string>;
  /** JSON-serialized unless a string (sent as is, e.g. a form body) */
  body?: unknown;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** how long to wait on a 429 without Retry-After (default 60 s) */
  defaultBackoffMs?: number;
  /** the answer is text, not JSON (Slack incoming webhooks answer `ok`) */
  text?: boolean;
}

export interface VendorResponse<T> {
  status: number;
  headers: Headers;
  data: T;
}

const RETRYABLE = new Set([408, 409, 425, 500, 502, 503, 504]);

/** Short text of an error body for messages (vendors put the reason in different fields). */
function reason(body: unknown, text: string): string {
  const b = body as any;
  const list = Array.isArray(b?.errors) ? b.errors.map((e: any) => (typeof e === 'string' ? e : e?.message ?? e?.title)).join('; ') : undefined;
  if (list && typeof b?.message === 'string') return `${b.message}: ${list}`.replace(/\s+/g, ' ').slice(0, 300);
  const r =
    (typeof b?.error === 'string' ? b.error : b?.error?.message) ??
    b?.error_description ??
    b?.description ??
    b?.message ??
    (Array.isArray(b) ? b[0]?.message : undefined) ??
    (Array.isArray(b?.errors) ? b.errors.map((e: any) => (typeof e === 'string' ? e : e?.message ?? e?.title)).join('; ') : undefined) ??
    text.slice(0, 200);
  return String(r).replace(/\s+/g, ' ').slice(0, 300);
}

/**
 * Sends one request and parses JSON. 2xx returns; 429 (and 503 with Retry-After) throws
 * RateLimitedError; other statuses and network failures throw VendorApiError. `what` names the
 * call in messages (never the URL's query, which may carry cursors; never headers).
 */
export async function vendorJson<T>(vendor: string, what: string, url: string, req: VendorRequest = {}): Promise<VendorResponse<T>> {
  const timeout = AbortSignal.timeout(req.timeoutMs ?? 30_000);
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'orgloop', ...req.headers };
  let body: string | undefined;
  if (req.body !== undefined) {
    body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(url, { method: req.method ?? 'GET', headers, body, signal: req.signal ? AbortSignal.any([req.signal, timeout]) : timeout, redirect: 'error' });
  } catch (err) {
    throw new VendorApiError(vendor, 0, `${vendor} ${what} failed: ${fetchErrorText(err)}`, true);
  }
  const text = await res.text();
  let data: unknown = undefined;
  if (req.text) data = text;
  else if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      if (res.ok) throw new VendorApiError(vendor, res.status, `${vendor} ${what} answered ${res.status} with a body that is not JSON`, false);
    }
  }
  // Retry-After, else the IETF draft's `ratelimit-reset` (seconds until the window resets; PagerDuty, others)
  const reset = res.headers.get('ratelimit-reset');
  const wait = retryAfterMs(res.headers.get('retry-after')) ?? (reset && /^\d+$/.test(reset.trim()) ? Number(reset) * 1000 : undefined);
  if (res.status === 429 || (res.status === 503 && wait !== undefined)) {
    throw new RateLimitedError(vendor, Date.now() + (wait ?? req.defaultBackoffMs ?? 60_000));
  }
  if (!res.ok) {
    const auth = res.status === 401 || res.status === 403 ? ' (check the credentials and their scopes)' : '';
    throw new VendorApiError(vendor, res.status, `${vendor} ${what} failed (${res.status}): ${reason(data, text)}${auth}`, RETRYABLE.has(res.status), data);
  }
  return { status: res.status, headers: res.headers, data: data as T };
}

/** A base URL from config (fakes and regional hosts), without trailing slashes. */
export function baseUrl(value: unknown, fallback: string): string {
  return (typeof value === 'string' && value.trim() ? value.trim() : fallback).replace(/\/+$/, '');
}

/**
 * What an actor reports for a failed vendor call: rate limits and retryable errors retry, the rest
 * fail at once; a call cut short because the executor is stopping (its `signal`) goes back to the queue.
 */
export function deliveryFailure(err: unknown, signal?: AbortSignal): DeliveryResult {
  if (signal?.aborted && err instanceof VendorApiError && err.status === 0) return stoppingOutcome();
  if (err instanceof RateLimitedError) return { ok: false, error: err.message, retryable: true, retryAfterMs: Math.max(0, err.retryAt - Date.now()) };
  if (err instanceof VendorApiError) return { ok: false, error: err.message, retryable: err.retryable };
  return { ok: false, error: (err as Error)?.message ?? String(err), retryable: true };
}

/**
 * What a poll returns when a request failed part-way (the Google sources): rate limited, what was
 * read so far, with a cursor that remembers the wait (`blocked_until`; `backoff` counts them in a
 * row); any other error fails the poll when nothing was read, else it is logged and the records
 * read are kept (the cursor moves with them; the error repeats next poll).
 */
export function partialPoll(err: unknown, events: EmittedEvent[], next: object, backoffs: number | undefined, log: Logger): PollResult {
  if (err instanceof RateLimitedError) {
    return { events, cursor: JSON.stringify({ ...next, backoff: (backoffs ?? 0) + 1, blocked_until: err.retryAt }), retryAfterMs: Math.max(0, err.retryAt - Date.now()) };
  }
  if (events.length === 0) throw err;
  log.warn((err as Error).message);
  return { events, cursor: JSON.stringify(next) };
}
