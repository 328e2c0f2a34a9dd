import { afterEach, describe, expect, it } from 'vitest';
import { startFakeZendesk, type FakeZendesk } from '../../test/fakes/zendesk.js';
import { makeCtx } from '../lib/test-helpers/context.js';
import { zendeskSource } from './zendesk.js';

let zd: FakeZendesk;
afterEach(async () => zd?.close());
const ago = (ms: number) => new Date(Date.now() - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const ctxFor = (extra: Record<string, unknown> = {}) => makeCtx({ subdomain: 'acme', base_url: zd.url, email: zd.email, token: zd.token, initial_lookback: '1h', per_page: 2, ...extra });

describe('zendesk source (incremental ticket export)', () => {
  it('pages through the export, names created and updated tickets, and continues from the stored cursor', async () => {
    zd = await startFakeZendesk();
    const a = zd.createTicket({ subject: 'Printer on fire', at: ago(30 * 60_000) });
    zd.createTicket({ subject: 'Cannot log in', at: ago(20 * 60_000) });
    zd.updateTicket(a.id, { status: 'open', priority: 'urgent' }, ago(10 * 60_000));
    const r = await zendeskSource.poll!(ctxFor(), null, null);
    expect(r.events.map((e) => [e.provenance!.platform_event, e.payload.subject, e.payload.status])).toEqual([
      ['ticket.created', 'Printer on fire', 'new'],
      ['ticket.created', 'Cannot log in', 'new'],
      ['ticket.updated', 'Printer on fire', 'open'],
    ]);
    expect(r.events[0]).toMatchObject({ dedupe_key: `ticket:${a.id}:${a.created_at}`, provenance: { platform: 'zendesk', url: `${zd.url}/agent/tickets/${a.id}` } });
    expect(zd.requests.map((q) => q.query.has('cursor') ? 'cursor' : 'start_time')).toEqual(['start_time', 'cursor']);

    const nothing = await zendeskSource.poll!(ctxFor(), r.cursor, null);
    expect(nothing.events).toEqual([]);
    zd.updateTicket(a.id, { status: 'solved' });
    const later = await zendeskSource.poll!(ctxFor(), nothing.cursor, null);
    expect(later.events.map((e) => [e.provenance!.platform_event, e.payload.status])).toEqual([['ticket.updated', 'solved']]);
  });

  it('a rate limit keeps the pages read with the cursor after them and waits for Retry-After', async () => {
    zd = await startFakeZendesk();
    for (let i = 0; i < 5; i++) zd.createTicket({ subject: `t${i}`, at: ago((10 - i) * 60_000) });
    const first = await zendeskSource.poll!(ctxFor({ max_pages: 1 }), null, null);
    expect(first.events.map((e) => e.payload.subject)).toEqual(['t0', 't1']);
    zd.rateLimitNext(1, 20);
    const limited = await zendeskSource.poll!(ctxFor(), first.cursor, null);
    expect(limited.events).toEqual([]);
    expect(limited.retryAfterMs).toBeGreaterThan(15_000);
    const cur = JSON.parse(limited.cursor!);
    expect(cur.after).toBe(JSON.parse(first.cursor!).after);
    // after the block, the same cursor continues: nothing skipped, nothing doubled
    const resumed = await zendeskSource.poll!(ctxFor(), JSON.stringify({ ...cur, blocked_until: 0 }), null);
    expect(resumed.events.map((e) => e.payload.subject)).toEqual(['t2', 't3', 't4']);
  });

  it('OAuth bearer tokens, status filter, auth errors and doctor', async () => {
    zd = await startFakeZendesk();
    zd.createTicket({ subject: 'x', at: ago(5 * 60_000) });
    const bearer = await zendeskSource.poll!(ctxFor({ email: undefined, token: zd.oauthToken, statuses: ['open'] }), null, null);
    expect(bearer.events).toEqual([]);
    await expect(zendeskSource.poll!(ctxFor({ token: 'wrong' }), null, null)).rejects.toThrow("Zendesk incremental ticket export failed (401): Couldn't authenticate you (check the credentials and their scopes)");
    expect(await zendeskSource.check!(ctxFor())).toEqual({ ok: true, detail: `authenticated as Agent Smith (admin) at ${zd.url}` });
    expect(await zendeskSource.check!(ctxFor({ token: 'wrong' }))).toEqual({ ok: false, detail: 'Zendesk did not accept the credentials (anonymous user): check token and email' });
    expect(zendeskSource.validate!({ token: 'x' })).toEqual([{ path: 'subdomain', message: 'set the Zendesk subdomain (acme for acme.zendesk.com)' }]);
  });
});
