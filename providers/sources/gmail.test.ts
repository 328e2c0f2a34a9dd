import { afterEach, describe, expect, it } from 'vitest';
import { startFakeGoogle, type FakeGoogle } from '../../test/fakes/google.js';
import { makeCtx } from '../lib/test-helpers/context.js';
import { forgetGoogleTokens } from '../lib/google-api.js';
import { gmailSource } from './gmail.js';

let g: FakeGoogle;
afterEach(async () => {
  forgetGoogleTokens();
  await g?.close();
});
const oauth = (extra: Record<string, unknown> = {}) =>
  makeCtx({ client_id: g.clientId, client_secret: g.clientSecret, refresh_token: g.refreshToken, token_url: g.tokenUrl, base_url: g.url, ...extra });
const poll = (ctx: ReturnType<typeof oauth>, cursor: string | null) => gmailSource.poll!(ctx, cursor, null);
const names = (r: { events: Array<{ provenance?: { platform_event?: string }; payload: any }> }) => r.events.map((e) => [e.provenance!.platform_event, e.payload.subject ?? e.payload.labels_added]);

describe('gmail source (history.list from a stored historyId)', () => {
  it('starts at the mailbox history, then emits new messages with headers and snippet, across pages', async () => {
    g = await startFakeGoogle();
    g.deliver({ from: 'Old <old@x.com>', subject: 'before orgloop' });
    const ctx = oauth({ max_pages: 5, max_messages: 500 });
    const first = await poll(ctx, null);
    expect(first.events).toEqual([]);
    expect(JSON.parse(first.cursor!)).toMatchObject({ v: 1, history_id: g.historyId() });

    const m = g.deliver({ from: '"Doe, Jane" <jane@customer.com>', to: 'ops@acme.com, "B, Bob" <bob@acme.com>', cc: 'cc@acme.com', subject: 'Outage in eu-west', snippet: 'Our dashboard is down' });
    for (let i = 0; i < 120; i++) g.deliver({ from: `n${i}@news.com`, subject: `news ${i}` });
    const second = await poll(ctx, first.cursor);
    expect(second.events).toHaveLength(121);
    expect(second.events[0]).toMatchObject({
      type: 'resource.changed',
      dedupe_key: `gmail:${m.id}`,
      time: new Date(Number(m.internalDate)).toISOString(),
      provenance: { platform: 'gmail', platform_event: 'email.received', author: 'jane@customer.com', url: `https://mail.google.com/mail/u/0/#all/${m.threadId}` },
      payload: {
        message_id: m.id,
        thread_id: m.threadId,
        subject: 'Outage in eu-west',
        from: { name: 'Doe, Jane', email: 'jane@customer.com' },
        to: [{ name: '', email: 'ops@acme.com' }, { name: 'B, Bob', email: 'bob@acme.com' }],
        cc: [{ name: '', email: 'cc@acme.com' }],
        labels: ['INBOX', 'UNREAD'],
        snippet: 'Our dashboard is down',
      },
    });
    // only the headers asked for (metadataHeaders), keyed in lower case
    expect(Object.keys(second.events[0]!.payload.headers as object).sort()).toEqual(['cc', 'date', 'from', 'message-id', 'subject', 'to']);
    // the history came in two pages (maxResults 100) and the cursor is the mailbox's current historyId
    expect(g.requests.filter((r) => r.path.endsWith('/history')).map((r) => !!r.query.get('pageToken'))).toEqual([false, true]);
    expect(JSON.parse(second.cursor!).history_id).toBe(g.historyId());
    const third = await poll(ctx, second.cursor);
    expect(third.events).toEqual([]);
  });

  it('a query keeps only matching messages; drafts and sent mail are skipped; label changes on request', async () => {
    g = await startFakeGoogle();
    const ctx = oauth({ query: 'from:customer.com', events: ['email.received', 'email.label_changed'] });
    const start = await poll(ctx, null);
    const a = g.deliver({ from: 'a@customer.com', subject: 'help' });
    g.deliver({ from: 'spam@ads.com', subject: 'buy now' });
    g.deliver({ from: 'me@customer.com', subject: 'my draft', labels: ['DRAFT'] });
    g.label(a.id, ['IMPORTANT'], ['UNREAD']);
    const r = await poll(ctx, start.cursor);
    expect(names(r)).toEqual([
      ['email.received', 'help'],
      ['email.label_changed', ['IMPORTANT']],
      ['email.label_changed', []],
    ]);
    expect(r.events[2]!.payload.labels_removed).toEqual(['UNREAD']);
    expect(g.requests.find((x) => x.path.endsWith('/messages'))!.query.get('q')).toMatch(/^\(from:customer\.com\) after:\d+$/);
  });

  it('an expired historyId (404) resyncs: messages since the last poll are emitted, none lost', async () => {
    g = await startFakeGoogle();
    const ctx = oauth();
    const first = await poll(ctx, null);
    const during = g.deliver({ from: 'x@y.com', subject: 'while history expired' });
    g.expireHistory();
    const r = await poll(ctx, first.cursor);
    expect(names(r)).toEqual([['email.received', 'while history expired']]);
    expect(r.events[0]!.dedupe_key).toBe(`gmail:${during.id}`);
    expect(ctx.logged.some(([level, msg]) => level === 'warn' && /no longer available; resyncing/.test(msg))).toBe(true);
    expect(JSON.parse(r.cursor!).history_id).toBe(g.historyId());
    const after = g.deliver({ from: 'x@y.com', subject: 'after resync' });
    const next = await poll(ctx, r.cursor);
    expect(next.events.map((e) => e.dedupe_key)).toEqual([`gmail:${after.id}`]);
  });

  it('429 and 403 rateLimitExceeded block the source with growing backoff, keeping the position; the next poll carries on', async () => {
    g = await startFakeGoogle();
    const ctx = oauth();
    const first = await poll(ctx, null);
    g.deliver({ from: 'x@y.com', subject: 'one' });
    g.rateLimit(1, '429');
    const a = await poll(ctx, first.cursor);
    const ca = JSON.parse(a.cursor!);
    expect(a.events).toEqual([]);
    expect(ca).toMatchObject({ history_id: JSON.parse(first.cursor!).history_id, backoff: 1 });
    expect(a.retryAfterMs).toBeGreaterThan(0);
    expect(a.retryAfterMs).toBeLessThanOrEqual(2000);
    // still blocked: no request is spent
    const before = g.requests.length;
    expect((await poll(ctx, a.cursor)).cursor).toBe(a.cursor);
    expect(g.requests.length).toBe(before);
    // once the wait is over, a 403 userRateLimitExceeded doubles it
    g.rateLimit(1, '403');
    const b = await poll(ctx, JSON.stringify({ ...ca, blocked_until: Date.now() - 1 }));
    const cb = JSON.parse(b.cursor!);
    expect(cb.backoff).toBe(2);
    expect(b.retryAfterMs).toBeGreaterThan(1500);
    // Retry-After wins when Google sends it
    g.rateLimit(1, '429', 30);
    const c = await poll(ctx, JSON.stringify({ ...cb, blocked_until: 0 }));
    expect(c.retryAfterMs).toBeGreaterThan(29_000);
    const ok = await poll(ctx, JSON.stringify({ ...JSON.parse(c.cursor!), blocked_until: 0 }));
    expect(names(ok)).toEqual([['email.received', 'one']]);
    expect(JSON.parse(ok.cursor!).backoff).toBeUndefined();
  });

  it('a rate limit mid-history keeps the records read so far, with the cursor at the last of them', async () => {
    g = await startFakeGoogle();
    const ctx = oauth();
    const first = await poll(ctx, null);
    const msgs = [1, 2, 3].map((i) => g.deliver({ from: 'x@y.com', subject: `m${i}` }));
    // history page, m1, m2 answered; m3's metadata is rate limited
    const budget = g.requests.length + 4;
    const orig = g.requests.push.bind(g.requests);
    g.requests.push = (...items) => {
      const n = orig(...items);
      if (n === budget) g.rateLimit(1);
      return n;
    };
    const r = await poll(ctx, first.cursor);
    expect(names(r)).toEqual([
      ['email.received', 'm1'],
      ['email.received', 'm2'],
    ]);
    expect(JSON.parse(r.cursor!).history_id).toBe(msgs[1]!.historyId);
    const rest = await poll(ctx, JSON.stringify({ ...JSON.parse(r.cursor!), blocked_until: 0 }));
    expect(names(rest)).toEqual([['email.received', 'm3']]);
  });

  it('renews an expired access token once (401) and reports a revoked refresh token clearly', async () => {
    g = await startFakeGoogle();
    const ctx = oauth();
    const first = await poll(ctx, null);
    expect(g.tokenGrants).toEqual(['refresh_token']);
    g.deliver({ from: 'x@y.com', subject: 'after expiry' });
    g.expireTokens();
    const r = await poll(ctx, first.cursor);
    expect(names(r)).toEqual([['email.received', 'after expiry']]);
    expect(g.tokenGrants).toEqual(['refresh_token', 'refresh_token']);
    forgetGoogleTokens();
    await expect(poll(oauth({ refresh_token: 'revoked' }), first.cursor)).rejects.toThrow('Google token exchange failed (400): invalid_grant');
  });

  it('authenticates as a service account with a signed JWT for a delegated user', async () => {
    g = await startFakeGoogle();
    const ctx = makeCtx({ service_account_key: g.serviceAccountKey, subject: 'ops@acme.com', base_url: g.url });
    const first = await poll(ctx, null);
    expect(g.tokenGrants).toEqual(['urn:ietf:params:oauth:grant-type:jwt-bearer']);
    g.deliver({ from: 'x@y.com', subject: 'sa' });
    expect(names(await poll(ctx, first.cursor))).toEqual([['email.received', 'sa']]);
    expect(await gmailSource.check!(ctx)).toEqual({ ok: true, detail: 'reading ops@acme.com (1 messages) with the gmail.readonly scope' });
  });

  it('validates the credentials shape', () => {
    expect(gmailSource.validate!({})).toEqual([{ path: 'refresh_token', message: "set refresh_token with client_id and client_secret (a user's OAuth grant), or service_account_key" }]);
    expect(gmailSource.validate!({ refresh_token: 'r' })).toEqual([{ path: 'client_id', message: 'a refresh_token needs the OAuth client_id and client_secret it was issued to' }]);
    expect(gmailSource.validate!({ service_account_key: '{"x":1}', subject: 'a@b.c' })).toEqual([
      { path: 'service_account_key', message: "not a service account key: expected the key file's JSON with client_email and private_key" },
    ]);
    expect(gmailSource.validate!({ service_account_key: '${KEY}' })[0]!.path).toBe('subject');
  });
});
