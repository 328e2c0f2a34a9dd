import { afterEach, describe, expect, it } from 'vitest';
import { startFakeHttpApi, type FakeHttpApi } from '../../test/fakes/http-api.js';
import { makeCtx } from '../lib/test-helpers/context.js';
import { startServer } from '../lib/test-helpers/http.js';
import { httpPollSource, itemEvent } from './http-poll.js';

let api: FakeHttpApi;
afterEach(async () => api?.close());

const base = (extra: Record<string, unknown>) =>
  makeCtx({
    auth: { bearer: api.token },
    id: 'id',
    version: 'updated_at',
    platform: 'crm',
    event: { type: 'deal.{{stage}}', url: 'https://crm.example/deals/{{id}}' },
    since: { param: 'updated_since', from: 'updated_at' },
    query: { per_page: 2 },
    ...extra,
  });

describe('http-poll source', () => {
  it.each([
    ['link', { url: '', items: '', pagination: { style: 'link' } }, '/link'],
    ['cursor', { items: 'results', pagination: { style: 'cursor', cursor_path: 'paging.next.after', cursor_param: 'after' } }, '/cursor'],
    ['page', { items: 'data', pagination: { style: 'page', page_param: 'page', size: 2 } }, '/page'],
  ])('%s pagination reads every page, then only what changed since the stored cursor', async (_style, cfg, path) => {
    api = await startFakeHttpApi();
    for (const name of ['a', 'b', 'c', 'd', 'e']) api.add(name);
    const ctx = base({ ...cfg, url: api.url + path });
    const first = await httpPollSource.poll!(ctx, null, null);
    expect(first.events.map((e) => e.payload.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(first.events[0]).toMatchObject({ dedupe_key: `it_1:${api.items[0]!.updated_at}`, provenance: { platform: 'crm', platform_event: 'deal.open', url: 'https://crm.example/deals/it_1' } });
    const again = await httpPollSource.poll!(ctx, first.cursor, null);
    expect(again.events).toEqual([]);
    api.items[1]!.stage = 'won';
    api.items[1]!.updated_at = api.items.at(-1)!.updated_at + 1;
    const changed = await httpPollSource.poll!(ctx, again.cursor, null);
    expect(changed.events.map((e) => [e.payload.name, e.provenance!.platform_event])).toEqual([['b', 'deal.won']]);
  });

  it('hole 9: an item value stays one segment of the event link; a one-tag link is the item\'s own URL', () => {
    const cfg = { url: 'https://crm.example/api', id: 'id', event: { url: 'https://crm.example/deals/{{id}}?tab={{tab}}' } };
    expect(itemEvent(cfg, { id: '../../admin', tab: 'a&b' })!.provenance!.url).toBe('https://crm.example/deals/..%2F..%2Fadmin?tab=a%26b');
    expect(itemEvent(cfg, { id: '..' })!.provenance!.url).toBeUndefined();
    expect(itemEvent({ ...cfg, event: { url: '{{link}}' } }, { id: 1, link: 'https://crm.example/d/1' })!.provenance!.url).toBe('https://crm.example/d/1');
  });

  it('a rate limit keeps the pages read and their cursor, and waits for Retry-After', async () => {
    api = await startFakeHttpApi();
    for (const name of ['a', 'b', 'c']) api.add(name);
    const ctx = base({ url: api.url + '/link', items: '', pagination: { style: 'link' } });
    const first = await httpPollSource.poll!(ctx, null, null);
    api.add('d');
    api.add('e');
    api.add('f');
    api.rateLimitNext(1, 9);
    // first request of the next poll is limited: nothing read, the cursor stays, a wait is asked
    const limited = await httpPollSource.poll!(ctx, first.cursor, null);
    expect(limited.events).toEqual([]);
    expect(limited.retryAfterMs).toBeGreaterThan(8000);
    expect(JSON.parse(limited.cursor!).since).toBe(JSON.parse(first.cursor!).since);
    const resumed = await httpPollSource.poll!(ctx, JSON.stringify({ ...JSON.parse(limited.cursor!), blocked_until: 0 }), null);
    expect(resumed.events.map((e) => e.payload.name)).toEqual(['d', 'e', 'f']);
  });

  it('never follows a Link to another origin with the credentials; errors and doctor', async () => {
    api = await startFakeHttpApi();
    api.add('a');
    const elsewhere = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', link: `<${api.url}/link?stolen=1>; rel="next"` });
      res.end(JSON.stringify([{ id: 'x1', name: 'x' }]));
    });
    const r = await httpPollSource.poll!(base({ url: elsewhere.url + '/list', items: '', version: undefined, since: undefined, pagination: { style: 'link' } }), null, null);
    await elsewhere.close();
    expect(r.events.map((e) => e.payload.name)).toEqual(['x']);
    expect(api.requests).toEqual([]);
    await expect(httpPollSource.poll!(base({ url: api.url + '/link', items: '', auth: { bearer: 'wrong' } }), null, null)).rejects.toThrow('crm GET /link failed (401): Authentication credentials were missing or incorrect');
    expect(await httpPollSource.check!(base({ url: api.url + '/link', items: '' }))).toEqual({ ok: true, detail: `${api.url} answered; 1 item(s) on the first page` });
    expect(httpPollSource.validate!({ url: 'ftp://x', id: 'id', pagination: { style: 'cursor' } })).toEqual([
      { path: 'url', message: 'must be an http(s) URL' },
      { path: 'pagination.cursor_path', message: 'cursor pagination needs cursor_path (where the next cursor is in the response)' },
    ]);
  });
});
