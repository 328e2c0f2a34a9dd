// Source `google-calendar` (polling): events created, updated and cancelled in a Google Calendar,
// through incremental sync (events.list with syncToken), and events starting soon.
//
// Sync: the first poll lists the calendar (from a day ago on, showDeleted, singleEvents) page by
// page to its nextSyncToken and emits nothing: it is the starting point. Later polls list with
// that syncToken and emit every change (events.list with a syncToken returns deleted events too).
// A token the server no longer accepts answers 410 Gone: the source then lists the calendar in
// full again for a new token, and this time emits the events updated since its last successful
// sync, so nothing changed during an outage is lost (repeats are deduped). A listing cut short
// (max_pages, a rate limit, an error) stores its pageToken and continues there next poll.
//
// Starting soon (`starting_soon`, default 10m; "0s" turns it off): each poll lists the events that
// start before now + starting_soon (timeMax) and have not ended (timeMin), and emits
// `calendar.event_starting` once for each whose start lies after the previous poll's horizon.
// Events that began more than starting_soon ago (an outage) are not announced late.
//
// Cursor (JSON, committed with the events of the same poll):
//   { v: 1, sync_token?, page?: { token, full, since? }, synced_at?, soon_until?, backoff?, blocked_until? }
// Events: calendar.event_created (created and updated within 2 s of each other), .event_updated,
// .event_cancelled, .event_starting; dedupe keys `gcal:<id>:<what>`.

import type { EmittedEvent, PollResult, ProviderContext, SourceProvider } from '../types.js';
import { durationIssue, durationOr } from '../lib/duration.js';
import { GOOGLE_AUTH_PROPERTIES, GOOGLE_SENSITIVE, GoogleClient, backoffMs, googleAuthIssues } from '../lib/google-api.js';
import { VendorApiError, baseUrl, partialPoll } from '../lib/vendor-http.js';
import { readCursor } from '../lib/cursor.js';

interface Cursor {
  v: 1;
  sync_token?: string;
  /** a listing in progress: its page token; `full` for a full sync (no syncToken), with `since` when it emits changes after a 410 */
  page?: { token: string; full: boolean; since?: number; time_min?: string };
  synced_at?: number;
  soon_until?: number;
  backoff?: number;
  blocked_until?: number;
}

export const CALENDAR_SCOPE = 'https://www.googleapis.com/auth/calendar.readonly';
const EVENTS = ['calendar.event_created', 'calendar.event_updated', 'calendar.event_cancelled', 'calendar.event_starting'];
const DEFAULT_MAX_PAGES = 10;
const CREATED_WITHIN_MS = 2000;
const FULL_SYNC_FROM_MS = 86_400_000;
/** a resync emits changes from a little before the last sync: clocks differ, and repeats are deduped */
const RESYNC_SLACK_MS = 300_000;

interface CalendarEvent {
  id: string;
  status?: string;
  htmlLink?: string;
  created?: string;
  updated?: string;
  summary?: string;
  description?: string;
  location?: string;
  creator?: { email?: string; displayName?: string };
  organizer?: { email?: string; displayName?: string };
  start?: { dateTime?: string; date?: string; timeZone?: string };
  end?: { dateTime?: string; date?: string; timeZone?: string };
  attendees?: Array<{ email?: string; displayName?: string; responseStatus?: string; self?: boolean; organizer?: boolean }>;
  recurringEventId?: string;
  hangoutLink?: string;
}

interface ListPage {
  items?: CalendarEvent[];
  nextPageToken?: string;
  nextSyncToken?: string;
}

function parseCursor(raw: string | null): Cursor {
  return readCursor<Cursor>(raw, () => ({ v: 1 }));
}

const calendarId = (config: Record<string, unknown>) => String(config.calendar_id ?? 'primary');
const startMs = (e: CalendarEvent) => Date.parse(e.start?.dateTime ?? e.start?.date ?? '');

export function calendarEvent(e: CalendarEvent, calendar: string, name: string, key: string, now = Date.now()): EmittedEvent {
  const start = e.start?.dateTime ?? e.start?.date ?? null;
  const author = e.organizer?.email ?? e.creator?.email;
  const s = startMs(e);
  return {
    type: 'resource.changed',
    dedupe_key: key,
    time: name === 'calendar.event_starting' ? undefined : e.updated,
    provenance: { platform: 'google-calendar', platform_event: name, author, author_type: 'team_member', url: e.htmlLink },
    payload: {
      event_id: e.id,
      calendar_id: calendar,
      title: e.summary ?? '',
      summary: e.summary ?? '',
      description: e.description ?? '',
      location: e.location ?? null,
      status: e.status ?? null,
      start,
      end: e.end?.dateTime ?? e.end?.date ?? null,
      all_day: !e.start?.dateTime && !!e.start?.date,
      time_zone: e.start?.timeZone ?? null,
      organizer: e.organizer ? { email: e.organizer.email ?? null, name: e.organizer.displayName ?? null } : null,
      creator: e.creator ? { email: e.creator.email ?? null, name: e.creator.displayName ?? null } : null,
      attendees: (e.attendees ?? []).map((a) => ({ email: a.email ?? null, name: a.displayName ?? null, response_status: a.responseStatus ?? null })),
      recurring_event_id: e.recurringEventId ?? null,
      meet_url: e.hangoutLink ?? null,
      created: e.created ?? null,
      updated: e.updated ?? null,
      url: e.htmlLink ?? null,
      ...(name === 'calendar.event_starting' && Number.isFinite(s) ? { minutes_until_start: Math.max(0, Math.round((s - now) / 60_000)) } : {}),
    },
  };
}

/** The event a changed item means: cancelled, created (new: created ~ updated) or updated. */
export function changeEvent(e: CalendarEvent, calendar: string): EmittedEvent {
  if (e.status === 'cancelled') return calendarEvent(e, calendar, 'calendar.event_cancelled', `gcal:${e.id}:cancelled`);
  const created = Date.parse(e.created ?? '');
  const updated = Date.parse(e.updated ?? '');
  if (Number.isFinite(created) && Number.isFinite(updated) && updated - created <= CREATED_WITHIN_MS) return calendarEvent(e, calendar, 'calendar.event_created', `gcal:${e.id}:created`);
  return calendarEvent(e, calendar, 'calendar.event_updated', `gcal:${e.id}:${e.updated ?? ''}`);
}

class CalendarPoll {
  readonly client: GoogleClient;
  readonly base: string;
  readonly calendar: string;
  constructor(
    readonly ctx: ProviderContext,
    readonly backoff: number,
  ) {
    this.client = new GoogleClient(ctx.config, CALENDAR_SCOPE, ctx.signal);
    this.calendar = calendarId(ctx.config);
    this.base = `${baseUrl(ctx.config.base_url, 'https://www.googleapis.com')}/calendar/v3/calendars/${encodeURIComponent(this.calendar)}/events`;
  }

  list(params: Record<string, string | undefined>): Promise<ListPage> {
    const u = new URL(this.base);
    for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
    return this.client.get<ListPage>('list events', u.toString(), backoffMs(this.backoff + 1));
  }
}

async function poll(ctx: ProviderContext, raw: string | null): Promise<PollResult> {
  const c = parseCursor(raw);
  const now = Date.now();
  if (c.blocked_until && c.blocked_until > now) return { events: [], cursor: raw, retryAfterMs: c.blocked_until - now };
  const g = new CalendarPoll(ctx, c.backoff ?? 0);
  const maxPages = typeof ctx.config.max_pages === 'number' ? ctx.config.max_pages : DEFAULT_MAX_PAGES;
  const lead = durationOr(ctx.config.starting_soon, 600_000);
  const wanted = Array.isArray(ctx.config.events) && ctx.config.events.length ? new Set(ctx.config.events as string[]) : null;
  const events: EmittedEvent[] = [];
  const seen = new Set<string>();
  const push = (e: EmittedEvent) => {
    if (seen.has(e.dedupe_key!)) return;
    seen.add(e.dedupe_key!);
    events.push(e);
  };
  // the listing's state, advanced page by page only after the page's events are in `events`
  let next: Cursor = { ...c, backoff: undefined, blocked_until: undefined };
  try {
    // 1. changes (or the full sync that starts / restarts them)
    let page = c.page;
    if (!page && !c.sync_token) page = { token: '', full: true, time_min: new Date(now - FULL_SYNC_FROM_MS).toISOString() };
    for (let n = 0; n < maxPages; n++) {
      const common = { showDeleted: 'true', singleEvents: ctx.config.single_events === false ? 'false' : 'true', maxResults: '250', pageToken: page?.token || undefined };
      let r: ListPage;
      try {
        r = page?.full ? await g.list({ ...common, timeMin: page.time_min }) : await g.list({ ...common, syncToken: c.sync_token });
      } catch (err) {
        if (!(err instanceof VendorApiError && err.status === 410)) throw err;
        // the sync token (or the listing's page token) expired: a full sync, emitting what changed since the last good sync
        ctx.log.warn(`google-calendar: the sync token for ${g.calendar} expired (410); resyncing in full`);
        page = { token: '', full: true, time_min: new Date(now - FULL_SYNC_FROM_MS).toISOString(), since: page?.since ?? (c.synced_at ?? now) - RESYNC_SLACK_MS };
        next = { ...next, sync_token: undefined, page };
        continue;
      }
      for (const e of r.items ?? []) {
        if (!page?.full) push(changeEvent(e, g.calendar));
        else if (page.since !== undefined && Date.parse(e.updated ?? '') >= page.since) push(changeEvent(e, g.calendar));
      }
      if (r.nextPageToken) {
        page = { ...(page ?? { full: false }), token: r.nextPageToken };
        next = { ...next, page };
        continue;
      }
      // the listing is complete: its nextSyncToken continues from here
      next = { ...next, page: undefined, sync_token: r.nextSyncToken ?? next.sync_token, synced_at: now };
      page = undefined;
      break;
    }
    if (page) ctx.log.warn(`google-calendar: more than ${maxPages} pages of changes; the rest are read by the next poll`);

    // 2. starting soon (not asked for when `events` leaves it out)
    if (lead > 0 && (!wanted || wanted.has('calendar.event_starting'))) {
      const horizon = now + lead;
      const from = Math.max(c.soon_until ?? now, now - lead);
      let token: string | undefined;
      for (let n = 0; n < maxPages; n++) {
        const r = await g.list({ singleEvents: 'true', orderBy: 'startTime', timeMin: new Date(now).toISOString(), timeMax: new Date(horizon).toISOString(), maxResults: '250', pageToken: token });
        for (const e of r.items ?? []) {
          const s = startMs(e);
          if (e.status === 'cancelled' || !e.start?.dateTime || !(s > from && s <= horizon)) continue;
          push(calendarEvent(e, g.calendar, 'calendar.event_starting', `gcal:${e.id}:starting:${e.start.dateTime}`, now));
        }
        if (!r.nextPageToken) break;
        token = r.nextPageToken;
      }
      next = { ...next, soon_until: horizon };
    }
  } catch (err) {
    return partialPoll(err, events, next, c.backoff, ctx.log);
  }
  return { events: wanted ? events.filter((e) => wanted.has(e.provenance!.platform_event!)) : events, cursor: JSON.stringify(next) };
}

async function check(ctx: ProviderContext): Promise<{ ok: boolean; detail: string }> {
  try {
    const client = new GoogleClient(ctx.config, CALENDAR_SCOPE, ctx.signal);
    const id = calendarId(ctx.config);
    const cal = await client.get<{ summary?: string; timeZone?: string }>('read the calendar', `${baseUrl(ctx.config.base_url, 'https://www.googleapis.com')}/calendar/v3/calendars/${encodeURIComponent(id)}`);
    return { ok: true, detail: `reading calendar "${cal.summary ?? id}"${cal.timeZone ? ` (${cal.timeZone})` : ''} with the calendar.readonly scope` };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

function validate(config: Record<string, unknown>): Array<{ path: string; message: string }> {
  const issues = googleAuthIssues(config);
  const soon = durationIssue(config, 'starting_soon', 'starting_soon', { zero: true });
  if (soon) issues.push(soon);
  return issues;
}

export const googleCalendarSource: SourceProvider = {
  kind: 'source',
  name: 'google-calendar',
  description: 'Polls a Google Calendar: events created, updated, cancelled (sync tokens) and starting soon',
  polling: true,
  platformEvents: EVENTS,
  configSchema: {
    type: 'object',
    properties: {
      ...GOOGLE_AUTH_PROPERTIES,
      calendar_id: { type: 'string', description: 'calendar id (default primary; a shared calendar\'s id looks like an email address)' },
      starting_soon: { type: 'string', description: 'emit calendar.event_starting this long before an event starts (default 10m; "0s" turns it off)' },
      events: { type: 'array', items: { type: 'string', enum: EVENTS }, description: 'only these events (default all)' },
      single_events: { type: 'boolean', description: 'expand recurring events into their instances (default true)' },
      max_pages: { type: 'integer', minimum: 1, maximum: 100 },
      base_url: { type: 'string', description: 'API origin (default https://www.googleapis.com)' },
    },
    additionalProperties: false,
  },
  sensitive: GOOGLE_SENSITIVE,
  validate,
  poll,
  check,
};

export default googleCalendarSource;
