// Source `pagerduty` (polling): incidents and their log entries through the REST API v2.
//
// Each poll reads the window [since - overlap, now): incidents created in it (one
// `incident.triggered` event each) and log entries created in it (acknowledge, resolve,
// escalate, reassign, annotate... each as the event name PagerDuty's v3 webhooks use for the
// same change, so routes work with either source). Keys: `incident:<id>` and `log:<id>`, so the
// overlap (absorbing entries PagerDuty indexes late) never doubles an event.
//
// Cursor (JSON, committed by the executor with the events of the same poll):
//   { v: 1, since: ISO, blocked_until?: epoch ms }
// `since` moves to the window's end only when both lists were read to the end; on a 429 the poll
// returns what it has with the old `since` (the next poll re-reads, dedupe absorbs it) and asks
// the scheduler to wait until the rate limit resets, which is kept in the cursor across restarts.

import type { EmittedEvent, PollResult, ProviderContext, SourceProvider } from '../types.js';
import { durationOr } from '../lib/duration.js';
import { INITIAL_LOOKBACK_PROPERTY, pollWindowIssues } from '../lib/poll-window.js';
import { PagerdutyClient, logEntryEvent } from '../lib/pagerduty-api.js';
import { RateLimitedError } from '../lib/vendor-http.js';
import { readCursor } from '../lib/cursor.js';

interface Cursor {
  v: 1;
  since?: string;
  blocked_until?: number;
}

const DEFAULT_OVERLAP_MS = 2 * 60_000;
const DEFAULT_MAX_PAGES = 10;

function parseCursor(raw: string | null): Cursor {
  return readCursor<Cursor>(raw, () => ({ v: 1 }));
}

const iso = (ms: number) => new Date(ms).toISOString();

export function incidentEvent(i: any): EmittedEvent {
  return {
    type: 'resource.changed',
    dedupe_key: `incident:${i.id}`,
    time: i.created_at,
    provenance: { platform: 'pagerduty', platform_event: 'incident.triggered', author: 'pagerduty', author_type: 'system', url: i.html_url },
    payload: {
      incident_id: i.id,
      incident_number: i.incident_number ?? null,
      title: i.title ?? i.summary ?? null,
      status: i.status ?? null,
      urgency: i.urgency ?? null,
      priority: i.priority?.summary ?? null,
      service: i.service?.summary ?? null,
      service_id: i.service?.id ?? null,
      escalation_policy: i.escalation_policy?.summary ?? null,
      assignees: Array.isArray(i.assignments) ? i.assignments.map((a: any) => a?.assignee?.summary).filter(Boolean) : [],
      incident_key: i.incident_key ?? null,
      created_at: i.created_at,
      url: i.html_url ?? null,
    },
  };
}

export function logEntryEmitted(e: any): EmittedEvent | null {
  const name = logEntryEvent(String(e.type ?? ''));
  if (!name) return null;
  const agent = e.agent ?? {};
  return {
    type: 'resource.changed',
    dedupe_key: `log:${e.id}`,
    time: e.created_at,
    provenance: {
      platform: 'pagerduty',
      platform_event: name,
      author: agent.summary ?? 'pagerduty',
      author_type: agent.type === 'user_reference' || agent.type === 'user' ? 'user' : 'system',
      url: e.incident?.html_url,
    },
    payload: {
      incident_id: e.incident?.id ?? null,
      title: e.incident?.summary ?? null,
      log_entry_id: e.id,
      log_entry_type: e.type,
      summary: e.summary ?? null,
      note: e.channel?.type === 'note' ? (e.channel?.summary ?? null) : null,
      channel: e.channel?.type ?? null,
      service: e.service?.summary ?? null,
      service_id: e.service?.id ?? null,
      created_at: e.created_at,
      url: e.incident?.html_url ?? null,
    },
  };
}

async function poll(ctx: ProviderContext, raw: string | null): Promise<PollResult> {
  const c = parseCursor(raw);
  const now = Date.now();
  if (c.blocked_until && c.blocked_until > now) return { events: [], cursor: raw, retryAfterMs: c.blocked_until - now };
  if (!c.since) {
    // First poll: start at now minus the lookback (default: now, so history is not replayed).
    const lookback = durationOr(ctx.config.initial_lookback, 0);
    if (lookback <= 0) return { events: [], cursor: JSON.stringify({ v: 1, since: iso(now) }) };
    c.since = iso(now - lookback);
  }
  const client = new PagerdutyClient({ baseUrl: ctx.config.base_url, apiKey: String(ctx.config.api_key ?? ''), signal: ctx.signal });
  const maxPages = typeof ctx.config.max_pages === 'number' ? ctx.config.max_pages : DEFAULT_MAX_PAGES;
  const from = iso(Date.parse(c.since) - durationOr(ctx.config.overlap, DEFAULT_OVERLAP_MS));
  const until = iso(now);
  const services = Array.isArray(ctx.config.service_ids) ? (ctx.config.service_ids as string[]) : undefined;
  const wanted = Array.isArray(ctx.config.events) && ctx.config.events.length ? new Set(ctx.config.events as string[]) : null;
  const events: EmittedEvent[] = [];
  const keep = (e: EmittedEvent | null) => {
    if (e && (!wanted || wanted.has(String(e.provenance?.platform_event)))) events.push(e);
  };
  let complete = true;
  try {
    const incidents = await client.list<any>('list incidents', '/incidents', 'incidents', { since: from, until, time_zone: 'UTC', service_ids: services, urgencies: ctx.config.urgencies as string[] | undefined }, maxPages);
    incidents.items.forEach((i) => keep(incidentEvent(i)));
    complete &&= incidents.complete;
    if (ctx.config.log_entries !== false) {
      const logs = await client.list<any>('list log entries', '/log_entries', 'log_entries', { since: from, until, time_zone: 'UTC', is_overview: 'false' }, maxPages);
      for (const e of logs.items) {
        if (/^trigger_log_entry/.test(String(e.type))) continue; // the incident itself is that event
        if (services && !services.includes(e.service?.id)) continue;
        keep(logEntryEmitted(e));
      }
      complete &&= logs.complete;
    }
  } catch (err) {
    if (!(err instanceof RateLimitedError)) throw err;
    events.sort((a, b) => Date.parse(a.time!) - Date.parse(b.time!));
    return { events, cursor: JSON.stringify({ v: 1, since: c.since, blocked_until: err.retryAt }), retryAfterMs: Math.max(0, err.retryAt - Date.now()) };
  }
  if (!complete) ctx.log.warn(`more than ${maxPages} pages of PagerDuty changes in one window: the rest are read by the next poll (raise max_pages or poll more often)`);
  events.sort((a, b) => Date.parse(a.time!) - Date.parse(b.time!));
  return { events, cursor: JSON.stringify({ v: 1, since: complete ? until : c.since }) };
}

async function check(ctx: ProviderContext): Promise<{ ok: boolean; detail: string }> {
  const client = new PagerdutyClient({ baseUrl: ctx.config.base_url, apiKey: String(ctx.config.api_key ?? ''), signal: ctx.signal });
  try {
    const body = await client.get<{ abilities?: string[] }>('read abilities', '/abilities');
    const services = Array.isArray(ctx.config.service_ids) ? (ctx.config.service_ids as string[]) : [];
    for (const id of services) await client.get(`read service ${id}`, `/services/${encodeURIComponent(id)}`);
    return { ok: true, detail: `API key accepted (${body.abilities?.length ?? 0} abilities)${services.length ? `; services ${services.join(', ')} reachable` : ''}` };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

function validate(config: Record<string, unknown>): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  issues.push(...pollWindowIssues(config));
  return issues;
}

export const pagerdutySource: SourceProvider = {
  kind: 'source',
  name: 'pagerduty',
  description: 'Polls PagerDuty for new incidents and their log entries (acknowledge, resolve, escalate, notes...)',
  polling: true,
  configSchema: {
    type: 'object',
    properties: {
      api_key: { type: 'string', sensitive: true, description: 'REST API key, read-only is enough (write "${PAGERDUTY_API_KEY}")' },
      service_ids: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'only these services' },
      urgencies: { type: 'array', items: { enum: ['high', 'low'] } },
      events: { type: 'array', items: { type: 'string' }, description: 'only these event names (incident.triggered, incident.resolved...)' },
      log_entries: { type: 'boolean', description: 'also emit log entries (default true)' },
      overlap: { type: 'string', description: 're-read window behind the cursor (default 2m)' },
      initial_lookback: INITIAL_LOOKBACK_PROPERTY,
      max_pages: { type: 'integer', minimum: 1, maximum: 100 },
      base_url: { type: 'string', description: 'REST API base (default https://api.pagerduty.com; https://api.eu.pagerduty.com in the EU)' },
    },
    required: ['api_key'],
    additionalProperties: false,
  },
  sensitive: ['api_key'],
  validate,
  poll,
  check,
};

export default pagerdutySource;
