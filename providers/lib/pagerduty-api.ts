// PagerDuty: the REST API v2 (incidents, log entries), the Events API v2 (enqueue) and v3
// webhook signatures, as the connectors use them.
//
// REST auth is `Authorization: Token token=<key>` with the versioned Accept header; lists page
// with offset/limit and a `more` flag (classic pagination). Rate limits answer 429, with
// Retry-After or `ratelimit-reset` (seconds) when present.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { baseUrl, vendorJson } from './vendor-http.js';

export const DEFAULT_PAGERDUTY_API = 'https://api.pagerduty.com';
export const DEFAULT_PAGERDUTY_EVENTS = 'https://events.pagerduty.com';
export const PAGE_LIMIT = 100;

export class PagerdutyClient {
  requests = 0;
  constructor(private readonly opts: { baseUrl?: unknown; apiKey: string; signal?: AbortSignal }) {}

  url(path: string, query: Record<string, string | number | string[] | undefined>): string {
    const u = new URL(baseUrl(this.opts.baseUrl, DEFAULT_PAGERDUTY_API) + path);
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const x of v) u.searchParams.append(`${k}[]`, x);
      else u.searchParams.set(k, String(v));
    }
    return u.toString();
  }

  async get<T>(what: string, path: string, query: Record<string, string | number | string[] | undefined> = {}): Promise<T> {
    this.requests++;
    const res = await vendorJson<T>('PagerDuty', what, this.url(path, query), {
      headers: { authorization: `Token token=${this.opts.apiKey}`, accept: 'application/vnd.pagerduty+json;version=2' },
      signal: this.opts.signal,
    });
    return res.data;
  }

  /** Every page of an offset-paginated list, up to `maxPages`; `complete` is false when pages were left. */
  async list<T>(what: string, path: string, key: string, query: Record<string, string | number | string[] | undefined>, maxPages: number): Promise<{ items: T[]; complete: boolean }> {
    const items: T[] = [];
    for (let page = 0, offset = 0; page < maxPages; page++) {
      const body = await this.get<Record<string, unknown>>(what, path, { ...query, limit: PAGE_LIMIT, offset });
      const got = Array.isArray(body[key]) ? (body[key] as T[]) : [];
      items.push(...got);
      if (!body.more || got.length === 0) return { items, complete: true };
      offset += got.length;
    }
    return { items, complete: false };
  }
}

/** Log entry type -> the event name PagerDuty's v3 webhooks use for the same change. */
export function logEntryEvent(type: string): string | null {
  const t = type.replace(/_log_entry(_reference)?$/, '');
  const map: Record<string, string> = {
    trigger: 'incident.triggered',
    acknowledge: 'incident.acknowledged',
    resolve: 'incident.resolved',
    escalate: 'incident.escalated',
    assign: 'incident.reassigned',
    reassign: 'incident.reassigned',
    annotate: 'incident.annotated',
    unacknowledge: 'incident.unacknowledged',
    urgency_change: 'incident.priority_updated',
    priority_change: 'incident.priority_updated',
    snooze: 'incident.snoozed',
    notify: 'incident.notified',
    delegate: 'incident.delegated',
    reach_trigger_limit: 'incident.trigger_limit_reached',
  };
  return map[t] ?? (t ? `incident.${t}` : null);
}

/**
 * v3 webhook signature: `X-PagerDuty-Signature: v1=<hex HMAC-SHA256(secret, raw body)>`, one or
 * more comma-separated (several while a secret rotates). True when any matches any secret.
 */
export function verifyPagerdutySignature(secrets: string[], header: string | undefined, body: Buffer): boolean {
  if (!header) return false;
  const given = header
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='))
    .map((s) => Buffer.from(s.slice(3), 'hex'));
  for (const secret of secrets) {
    const mac = createHmac('sha256', secret).update(body).digest();
    if (given.some((g) => g.length === mac.length && timingSafeEqual(g, mac))) return true;
  }
  return false;
}

export function signPagerduty(secret: string, body: Buffer | string): string {
  return `v1=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface EnqueueBody {
  routing_key: string;
  event_action: 'trigger' | 'acknowledge' | 'resolve';
  dedup_key?: string;
  payload?: { summary: string; source: string; severity: string; component?: string; group?: string; class?: string; custom_details?: unknown; timestamp?: string };
  links?: Array<{ href: string; text?: string }>;
  client?: string;
  client_url?: string;
}

export function eventsUrl(base: unknown): string {
  return `${baseUrl(base, DEFAULT_PAGERDUTY_EVENTS)}/v2/enqueue`;
}
