// A generic JSON list API on 127.0.0.1 for the declarative `http-poll` source, shaped like the
// vendors it stands in for: `GET /link` pages with an RFC 8288 `Link: <…>; rel="next"` header
// (GitHub, Greenhouse, Stripe-like), `GET /cursor` returns `{ results, paging: { next: { after } } }`
// (HubSpot), `GET /page?page=N` returns `{ data, page }` (Intercom-like numbered pages); every list
// takes `updated_since` (epoch seconds) and is sorted by `updated_at`. Bearer auth (401 with a
// JSON error), `per_page`, and 429 with Retry-After after `rateLimitNext`.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeHttpApi {
  url: string;
  token: string;
  items: Array<{ id: string; name: string; stage: string; updated_at: number }>;
  requests: Array<{ path: string; query: URLSearchParams; auth?: string; status: number }>;
  rateLimitNext(n: number, seconds: number): void;
  add(name: string, stage?: string): { id: string; name: string; stage: string; updated_at: number };
  close(): Promise<void>;
}

export async function startFakeHttpApi(): Promise<FakeHttpApi> {
  let limited = 0;
  let seconds = 1;
  let n = 0;
  let clock = Math.floor(Date.now() / 1000) - 10_000;
  const fake = {
    token: 'api-token',
    items: [] as FakeHttpApi['items'],
    requests: [] as FakeHttpApi['requests'],
    rateLimitNext(count: number, s: number) {
      limited = count;
      seconds = s;
    },
    add(name: string, stage = 'open') {
      const item = { id: `it_${++n}`, name, stage, updated_at: ++clock };
      fake.items.push(item);
      return item;
    },
  };
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      fake.requests.push({ path: u.pathname, query: u.searchParams, auth: req.headers.authorization, status });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${fake.token}`) return send(401, { message: 'Authentication credentials were missing or incorrect' });
    if (limited > 0) {
      limited--;
      return send(429, { message: 'rate limited' }, { 'retry-after': String(seconds) });
    }
    const since = Number(u.searchParams.get('updated_since') ?? -Infinity);
    const per = Number(u.searchParams.get('per_page') ?? 2);
    const all = fake.items.filter((i) => i.updated_at > since).sort((a, b) => a.updated_at - b.updated_at);
    if (u.pathname === '/link') {
      const offset = Number(u.searchParams.get('offset') ?? 0);
      const page = all.slice(offset, offset + per);
      const headers: Record<string, string> = {};
      if (offset + per < all.length) {
        const next = new URL(`http://${req.headers.host}${u.pathname}${u.search}`);
        next.searchParams.set('offset', String(offset + per));
        headers.link = `<${next}>; rel="next"`;
      }
      return send(200, page, headers);
    }
    if (u.pathname === '/cursor') {
      const after = u.searchParams.get('after');
      const offset = after ? Number(Buffer.from(after, 'base64url').toString()) : 0;
      const page = all.slice(offset, offset + per);
      return send(200, { results: page, paging: offset + per < all.length ? { next: { after: Buffer.from(String(offset + per)).toString('base64url') } } : undefined });
    }
    if (u.pathname === '/page') {
      const p = Number(u.searchParams.get('page') ?? 1);
      return send(200, { data: all.slice((p - 1) * per, p * per), page: p });
    }
    return send(404, { message: 'not found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(fake, { url, close: () => new Promise<void>((r) => server.close(() => r())) }) as FakeHttpApi;
}
