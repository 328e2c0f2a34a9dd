// A fake Zendesk Support API on 127.0.0.1: the cursor-based incremental ticket export
// (`GET /api/v2/incremental/tickets/cursor.json` with `start_time` — refused with 422 when less
// than a minute old — or an opaque `cursor`; `per_page` up to 1000; `after_cursor`,
// `end_of_stream`), `GET /api/v2/users/me.json` (the anonymous user when unauthenticated), API
// token auth (`Basic email/token:<token>`) or OAuth (`Bearer`), 401 "Couldn't authenticate you",
// and 429 with Retry-After after `rateLimitNext`.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeZendesk {
  url: string;
  email: string;
  token: string;
  oauthToken: string;
  /** every ticket version in export order */
  log: any[];
  tickets: Map<number, any>;
  requests: Array<{ path: string; query: URLSearchParams; status: number }>;
  rateLimitNext(n: number, seconds: number): void;
  createTicket(p: { subject: string; description?: string; priority?: string; at?: string }): any;
  updateTicket(id: number, patch: Record<string, unknown>, at?: string): any;
  close(): Promise<void>;
}

const enc = (i: number) => Buffer.from(`pos:${i}`).toString('base64url');
const dec = (c: string) => {
  const m = /^pos:(\d+)$/.exec(Buffer.from(c, 'base64url').toString());
  return m ? Number(m[1]) : null;
};

export async function startFakeZendesk(opts: { email?: string; token?: string } = {}): Promise<FakeZendesk> {
  let limited = 0;
  let limitSeconds = 1;
  let nextId = 100;
  const fake = {
    email: opts.email ?? 'agent@acme.test',
    token: opts.token ?? 'zd-api-token',
    oauthToken: 'zd-oauth-token',
    log: [] as any[],
    tickets: new Map<number, any>(),
    requests: [] as FakeZendesk['requests'],
    rateLimitNext(n: number, seconds: number) {
      limited = n;
      limitSeconds = seconds;
    },
    createTicket(p: { subject: string; description?: string; priority?: string; at?: string }) {
      const at = p.at ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const t = { id: ++nextId, subject: p.subject, description: p.description ?? '', status: 'new', priority: p.priority ?? 'normal', type: 'question', tags: [], requester_id: 9001, assignee_id: null, group_id: 7, via: { channel: 'email' }, created_at: at, updated_at: at, generated_timestamp: Math.floor(Date.parse(at) / 1000) };
      fake.tickets.set(t.id, t);
      fake.log.push({ ...t });
      return t;
    },
    updateTicket(id: number, patch: Record<string, unknown>, at?: string) {
      const t = { ...fake.tickets.get(id), ...patch, updated_at: at ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') };
      t.generated_timestamp = Math.floor(Date.parse(t.updated_at) / 1000);
      fake.tickets.set(id, t);
      fake.log.push({ ...t });
      return t;
    },
  };

  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      fake.requests.push({ path: u.pathname, query: u.searchParams, status });
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };
    const auth = req.headers.authorization ?? '';
    const basicOk = auth === `Basic ${Buffer.from(`${fake.email}/token:${fake.token}`).toString('base64')}`;
    const bearerOk = auth === `Bearer ${fake.oauthToken}`;
    if (u.pathname === '/api/v2/users/me.json') {
      if (!basicOk && !bearerOk) return send(200, { user: { id: null, name: 'Anonymous user', role: 'end-user' } });
      return send(200, { user: { id: 42, name: 'Agent Smith', email: fake.email, role: 'admin' } });
    }
    if (!basicOk && !bearerOk) return send(401, { error: "Couldn't authenticate you" });
    if (limited > 0) {
      limited--;
      return send(429, { error: 'APIRateLimitExceeded', description: 'Number of allowed incremental export API requests per minute exceeded' }, { 'retry-after': String(limitSeconds) });
    }
    if (u.pathname === '/api/v2/incremental/tickets/cursor.json') {
      const perPage = Math.min(Number(u.searchParams.get('per_page') ?? 1000), 1000);
      let start: number;
      const cursor = u.searchParams.get('cursor');
      if (cursor) {
        const pos = dec(cursor);
        if (pos === null) return send(400, { error: 'InvalidPaginationParameter', description: 'cursor is invalid' });
        start = pos;
      } else {
        const st = Number(u.searchParams.get('start_time'));
        if (!Number.isFinite(st)) return send(400, { error: 'InvalidValue', description: 'start_time is required' });
        if (st > Date.now() / 1000 - 60) return send(422, { error: 'InvalidValue', description: 'Too recent start_time. Use a start_time older than 1 minute' });
        start = fake.log.findIndex((t) => t.generated_timestamp >= st);
        if (start < 0) start = fake.log.length;
      }
      const tickets = fake.log.slice(start, start + perPage);
      const end = start + tickets.length;
      return send(200, { tickets, after_cursor: enc(end), before_cursor: enc(start), after_url: null, before_url: null, end_of_stream: end >= fake.log.length });
    }
    return send(404, { error: 'InvalidEndpoint', description: 'Not found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(fake, { url, close: () => new Promise<void>((r) => server.close(() => r())) }) as FakeZendesk;
}
