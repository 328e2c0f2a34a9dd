import { afterEach, describe, expect, it } from 'vitest';
import { startFakeGoogle, type FakeGoogle } from '../../test/fakes/google.js';
import { makeCtx } from '../lib/test-helpers/context.js';
import { forgetGoogleTokens } from '../lib/google-api.js';
import { googleCalendarSource } from './google-calendar.js';

let g: FakeGoogle;
afterEach(async () => {
  forgetGoogleTokens();
  await g?.close();
});
const ctxFor = (extra: Record<string, unknown> = {}) =>
  makeCtx({ client_id: g.clientId, client_secret: g.clientSecret, refresh_token: g.refreshToken, token_url: g.tokenUrl, base_url: g.url, ...extra });
const poll = (ctx: ReturnType<typeof ctxFor>, cursor: string | null) => googleCalendarSource.poll!(ctx, cursor, null);
const names = (r: { events: Array<{ provenance?: { platform_event?: string }; payload: any }> }) => r.events.map((e) => [e.provenance!.platform_event, e.payload.summary]);
const inMin = (m: number) => new Date(Date.now() + m * 60_000);

describe('google-calendar source (sync tokens, starting soon)', () => {
  it('the first sync is the starting point; later ones emit created, updated and cancelled events, across pages', async () => {
    g = await startFakeGoogle();
    for (let i = 0; i < 5; i++) g.addEvent('primary', { summary: `existing ${i}`, start: inMin(600 + i) });
    const ctx = ctxFor({ starting_soon: '0s' });
    const first = await poll(ctx, null);
    expect(first.events).toEqual([]);
    expect(JSON.parse(first.cursor!).sync_token).toBeTruthy();
    const full = g.requests.filter((r) => r.path.endsWith('/events'));
    expect(full[0]!.query.get('timeMin')).toBeTruthy();
    expect(full[0]!.query.get('showDeleted')).toBe('true');

    const created = g.addEvent('primary', { summary: 'Incident review', start: inMin(120), location: 'Room 1' });
    const existing = g.events.get('primary')![0]!;
    g.updateEvent('primary', existing.id, { summary: 'existing 0 (moved)', start: inMin(700) });
    g.cancelEvent('primary', g.events.get('primary')![1]!.id);
    const second = await poll(ctx, first.cursor);
    expect(names(second).sort()).toEqual(
      [
        ['calendar.event_created', 'Incident review'],
        ['calendar.event_updated', 'existing 0 (moved)'],
        ['calendar.event_cancelled', ''],
      ].sort(),
    );
    const ev = second.events.find((e) => e.provenance!.platform_event === 'calendar.event_created')!;
    expect(ev).toMatchObject({
      dedupe_key: `gcal:${created.id}:created`,
      provenance: { platform: 'google-calendar', author: 'ops@acme.com', url: created.htmlLink },
      payload: { event_id: created.id, calendar_id: 'primary', title: 'Incident review', location: 'Room 1', start: created.start.dateTime, all_day: false, attendees: [{ email: 'dev@acme.com', name: null, response_status: 'needsAction' }] },
    });
    // the incremental request carries the sync token and none of the filters Google refuses with it
    const inc = g.requests.filter((r) => r.path.endsWith('/events')).at(-1)!;
    expect(inc.query.get('syncToken')).toBe(JSON.parse(first.cursor!).sync_token);
    expect(inc.query.has('timeMin')).toBe(false);
    expect(await poll(ctx, second.cursor).then((r) => r.events)).toEqual([]);
  });

  it('a listing cut short by max_pages continues at its page token next poll', async () => {
    g = await startFakeGoogle();
    const ctx = ctxFor({ starting_soon: '0s', max_pages: 1 });
    const first = await poll(ctx, null);
    for (let i = 0; i < 260; i++) g.addEvent('primary', { summary: `e${i}`, start: inMin(300 + i) });
    const a = await poll(ctx, first.cursor);
    expect(a.events).toHaveLength(250);
    expect(JSON.parse(a.cursor!).page).toMatchObject({ full: false });
    const b = await poll(ctx, a.cursor);
    expect(b.events).toHaveLength(10);
    expect(JSON.parse(b.cursor!).page).toBeUndefined();
    expect(new Set([...a.events, ...b.events].map((e) => e.dedupe_key)).size).toBe(260);
  });

  it('410 (sync token expired) resyncs in full and emits what changed since the last sync', async () => {
    g = await startFakeGoogle();
    const keep = g.addEvent('primary', { summary: 'standup', start: inMin(300) });
    const ctx = ctxFor({ starting_soon: '0s' });
    const first = await poll(ctx, null);
    g.updateEvent('primary', keep.id, { summary: 'standup (new room)' });
    g.invalidateSyncTokens();
    const r = await poll(ctx, first.cursor);
    expect(names(r)).toEqual([['calendar.event_updated', 'standup (new room)']]);
    expect(ctx.logged.some(([, msg]) => /expired \(410\); resyncing in full/.test(msg))).toBe(true);
    const cur = JSON.parse(r.cursor!);
    expect(cur.sync_token).toBeTruthy();
    expect(cur.page).toBeUndefined();
    g.addEvent('primary', { summary: 'after resync', start: inMin(400) });
    expect(names(await poll(ctx, r.cursor))).toEqual([['calendar.event_created', 'after resync']]);
  });

  it('announces events starting soon once, not events already well under way', async () => {
    g = await startFakeGoogle();
    const soon = g.addEvent('primary', { summary: 'Deploy window', start: inMin(5) });
    g.addEvent('primary', { summary: 'Later', start: inMin(60) });
    g.addEvent('primary', { summary: 'Long running', start: inMin(-90), end: inMin(60) });
    const ctx = ctxFor({ starting_soon: '10m', events: ['calendar.event_starting'] });
    const first = await poll(ctx, null);
    expect(names(first)).toEqual([['calendar.event_starting', 'Deploy window']]);
    expect(first.events[0]).toMatchObject({ dedupe_key: `gcal:${soon.id}:starting:${soon.start.dateTime}`, payload: { minutes_until_start: 5 } });
    const second = await poll(ctx, first.cursor);
    expect(second.events).toEqual([]);
    // a horizon further on (time passing) picks up the next one, once
    const later = JSON.stringify({ ...JSON.parse(second.cursor!) });
    const far = await poll(ctxFor({ starting_soon: '61m', events: ['calendar.event_starting'] }), later);
    expect(names(far)).toEqual([['calendar.event_starting', 'Later']]);
  });

  it('rate limits block with backoff and keep the position; the service account path works; doctor names the calendar', async () => {
    g = await startFakeGoogle();
    const ctx = makeCtx({ service_account_key: g.serviceAccountKey, starting_soon: '0s', base_url: g.url });
    const first = await poll(ctx, null);
    g.addEvent('primary', { summary: 'x', start: inMin(300) });
    g.rateLimit(1, '403');
    const a = await poll(ctx, first.cursor);
    expect(JSON.parse(a.cursor!)).toMatchObject({ sync_token: JSON.parse(first.cursor!).sync_token, backoff: 1 });
    expect(a.retryAfterMs).toBeGreaterThan(0);
    const b = await poll(ctx, JSON.stringify({ ...JSON.parse(a.cursor!), blocked_until: 0 }));
    expect(names(b)).toEqual([['calendar.event_created', 'x']]);
    // only what `events` asks for is emitted, and the starting-soon listing is skipped when left out
    const listings = () => g.requests.filter((r) => r.path.endsWith('/events')).length;
    const before = listings();
    g.addEvent('primary', { summary: 'soon', start: inMin(3) });
    const c = await poll(makeCtx({ service_account_key: g.serviceAccountKey, base_url: g.url, events: ['calendar.event_cancelled'] }), b.cursor);
    expect(c.events).toEqual([]);
    expect(listings()).toBe(before + 1);
    expect(await googleCalendarSource.check!(ctx)).toEqual({ ok: true, detail: 'reading calendar "ops@acme.com" (UTC) with the calendar.readonly scope' });
  });
});
