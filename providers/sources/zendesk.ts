// Source `zendesk` (polling): tickets created and updated, through the cursor-based incremental
// ticket export (`GET /api/v2/incremental/tickets/cursor.json`).
//
// The export returns every ticket changed since a point, oldest first, one version per change
// window, with `after_cursor` to continue and `end_of_stream` when caught up. The first poll
// starts at now minus `initial_lookback` (Zendesk refuses start times in the last minute, so
// at least 61 s back); later polls continue from the stored cursor.
//
// Cursor (JSON, committed by the executor with the events of the same poll):
//   { v: 1, after?: <after_cursor>, start_time?: unix s, blocked_until?: epoch ms }
// It advances page by page: a poll stopped by a rate limit (the export allows 10 requests a
// minute; 429 with Retry-After) returns the pages it read with the cursor after the last of them.
// Events: `ticket.created` (the ticket's first version: created_at = updated_at) and
// `ticket.updated`, `ticket.deleted` for status deleted; dedupe key `ticket:<id>:<updated_at>`, so
// a version the export returns twice is stored once.

import type { EmittedEvent, PollResult, ProviderContext, SourceProvider } from '../types.js';
import { durationOr } from '../lib/duration.js';
import { INITIAL_LOOKBACK_PROPERTY, pollWindowIssues } from '../lib/poll-window.js';
import { ticketExportPage, zendeskBase } from '../lib/zendesk-api.js';
import { RateLimitedError, vendorJson } from '../lib/vendor-http.js';
import { zendeskAuthorization } from '../lib/zendesk-api.js';
import { readCursor } from '../lib/cursor.js';

interface Cursor {
  v: 1;
  after?: string;
  start_time?: number;
  blocked_until?: number;
}

const DEFAULT_MAX_PAGES = 10;
const MIN_AGE_S = 61;

function parseCursor(raw: string | null): Cursor {
  return readCursor<Cursor>(raw, () => ({ v: 1 }));
}

export function ticketEvent(t: any, base: string): EmittedEvent {
  const name = t.status === 'deleted' ? 'ticket.deleted' : t.created_at && t.created_at === t.updated_at ? 'ticket.created' : 'ticket.updated';
  const url = `${base}/agent/tickets/${t.id}`;
  return {
    type: 'resource.changed',
    dedupe_key: `ticket:${t.id}:${t.updated_at ?? t.generated_timestamp ?? ''}`,
    time: t.updated_at ?? undefined,
    provenance: { platform: 'zendesk', platform_event: name, author: t.requester_id != null ? String(t.requester_id) : undefined, author_type: 'user', url },
    payload: {
      ticket_id: t.id,
      title: t.subject ?? null,
      subject: t.subject ?? null,
      description: t.description ?? '',
      status: t.status ?? null,
      priority: t.priority ?? null,
      ticket_type: t.type ?? null,
      tags: Array.isArray(t.tags) ? t.tags : [],
      requester_id: t.requester_id ?? null,
      assignee_id: t.assignee_id ?? null,
      group_id: t.group_id ?? null,
      organization_id: t.organization_id ?? null,
      channel: t.via?.channel ?? null,
      created_at: t.created_at ?? null,
      updated_at: t.updated_at ?? null,
      url,
    },
  };
}

async function poll(ctx: ProviderContext, raw: string | null): Promise<PollResult> {
  const c = parseCursor(raw);
  const now = Date.now();
  if (c.blocked_until && c.blocked_until > now) return { events: [], cursor: raw, retryAfterMs: c.blocked_until - now };
  const base = zendeskBase(ctx.config);
  const maxPages = typeof ctx.config.max_pages === 'number' ? ctx.config.max_pages : DEFAULT_MAX_PAGES;
  const statuses = Array.isArray(ctx.config.statuses) && ctx.config.statuses.length ? new Set(ctx.config.statuses as string[]) : null;
  let next: Cursor = { v: 1, after: c.after, start_time: c.after ? undefined : (c.start_time ?? Math.floor((now - durationOr(ctx.config.initial_lookback, 0)) / 1000) - MIN_AGE_S) };
  const events: EmittedEvent[] = [];
  try {
    for (let page = 0; page < maxPages; page++) {
      const res = await ticketExportPage(ctx.config, next.after ? { cursor: next.after } : { start_time: next.start_time! }, ctx.signal);
      for (const t of res.tickets) if (!statuses || statuses.has(t.status)) events.push(ticketEvent(t, base));
      if (res.after_cursor) next = { v: 1, after: res.after_cursor };
      if (res.end_of_stream) break;
    }
  } catch (err) {
    if (!(err instanceof RateLimitedError)) {
      if (events.length === 0) throw err;
      // pages already read are kept (their cursor moves with them); the error repeats next poll
      ctx.log.warn((err as Error).message);
      return { events, cursor: JSON.stringify(next) };
    }
    return { events, cursor: JSON.stringify({ ...next, blocked_until: err.retryAt }), retryAfterMs: Math.max(0, err.retryAt - Date.now()) };
  }
  return { events, cursor: JSON.stringify(next) };
}

async function check(ctx: ProviderContext): Promise<{ ok: boolean; detail: string }> {
  try {
    const me = await vendorJson<{ user?: { id: number; name?: string; role?: string } }>('Zendesk', 'read the current user', `${zendeskBase(ctx.config)}/api/v2/users/me.json`, {
      headers: { authorization: zendeskAuthorization(ctx.config) },
      signal: ctx.signal,
    });
    const u = me.data.user;
    // An unauthenticated request gets the anonymous user (id null) rather than a 401.
    if (!u || u.id == null) return { ok: false, detail: 'Zendesk did not accept the credentials (anonymous user): check token and email' };
    if (u.role !== 'admin') return { ok: false, detail: `authenticated as ${u.name}, but the incremental export needs an admin (role is ${u.role})` };
    return { ok: true, detail: `authenticated as ${u.name} (${u.role}) at ${zendeskBase(ctx.config)}` };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

function validate(config: Record<string, unknown>): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  if (!config.base_url && !(typeof config.subdomain === 'string' && /^[a-z0-9][a-z0-9-]*$/i.test(config.subdomain))) {
    issues.push({ path: 'subdomain', message: 'set the Zendesk subdomain (acme for acme.zendesk.com)' });
  }
  issues.push(...pollWindowIssues(config));
  return issues;
}

export const zendeskSource: SourceProvider = {
  kind: 'source',
  name: 'zendesk',
  description: 'Polls Zendesk Support for new and updated tickets (incremental export)',
  polling: true,
  configSchema: {
    type: 'object',
    properties: {
      subdomain: { type: 'string', description: 'acme for acme.zendesk.com' },
      token: { type: 'string', sensitive: true, description: 'API token (with email) or OAuth access token (write "${ZENDESK_TOKEN}")' },
      email: { type: 'string', description: 'agent email for API token auth (email/token); omit for an OAuth token' },
      statuses: { type: 'array', items: { type: 'string' }, description: 'only tickets in these statuses (new, open, pending, hold, solved, closed, deleted)' },
      initial_lookback: INITIAL_LOOKBACK_PROPERTY,
      per_page: { type: 'integer', minimum: 1, maximum: 1000 },
      max_pages: { type: 'integer', minimum: 1, maximum: 100 },
      base_url: { type: 'string', description: 'API origin instead of https://<subdomain>.zendesk.com' },
    },
    required: ['token'],
    additionalProperties: false,
  },
  sensitive: ['token'],
  validate,
  poll,
  check,
};

export default zendeskSource;
