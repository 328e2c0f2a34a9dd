// A fake Slack on 127.0.0.1: incoming webhooks (`POST /services/T…/B…/<secret>`, answering the
// text `ok`, or 400 invalid_payload / no_text, 404 no_service, 410 channel_is_archived) and the
// Web API methods orgloop calls (`POST /api/chat.postMessage`, `POST /api/auth.test`: HTTP 200
// with { ok, error } — invalid_auth, not_authed, channel_not_found — as Slack does). Rate limits:
// `rateLimitNext(n, seconds)` answers the next n requests with 429 and Retry-After.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSlack {
  url: string;
  /** the incoming webhook URL that works */
  hookUrl: string;
  token: string;
  channels: Map<string, { name: string; archived?: boolean }>;
  /** messages accepted, in order */
  messages: Array<{ via: 'webhook' | 'api'; channel?: string; text: string; thread_ts?: string; body: any }>;
  rateLimitNext(n: number, seconds: number): void;
  requests: number;
  close(): Promise<void>;
}

export async function startFakeSlack(opts: { token?: string } = {}): Promise<FakeSlack> {
  const token = opts.token ?? 'xoxb-test-token';
  const hookPath = '/services/T0001/B0001/hooksecret';
  const channels = new Map<string, { name: string; archived?: boolean }>([
    ['C0001', { name: 'support' }],
    ['C0002', { name: 'incidents' }],
  ]);
  let limited = 0;
  let limitSeconds = 1;
  let ts = 1_700_000_000;
  const fake: Omit<FakeSlack, 'url' | 'hookUrl' | 'close'> = {
    token,
    channels,
    messages: [],
    requests: 0,
    rateLimitNext(n, seconds) {
      limited = n;
      limitSeconds = seconds;
    },
  };
  const channelId = (c: string | undefined) => {
    if (!c) return undefined;
    if (channels.has(c)) return c;
    const name = c.replace(/^#/, '');
    return [...channels.entries()].find(([, v]) => v.name === name)?.[0];
  };

  const server = createServer(async (req, res) => {
    fake.requests++;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString();
    const text = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'text/plain', ...headers });
      res.end(body);
    };
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (limited > 0) {
      limited--;
      return text(429, 'rate_limited', { 'retry-after': String(limitSeconds) });
    }
    let body: any;
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      return req.url?.startsWith('/services/') ? text(400, 'invalid_payload') : json({ ok: false, error: 'invalid_json' });
    }
    if (req.method !== 'POST') return text(405, 'method_not_allowed');
    if (req.url?.startsWith('/services/')) {
      if (req.url !== hookPath) return text(404, 'no_service');
      if (channels.get('C0001')?.archived) return text(410, 'channel_is_archived');
      if (typeof body.text !== 'string' || !body.text) return text(400, 'no_text');
      fake.messages.push({ via: 'webhook', text: body.text, body });
      return text(200, 'ok');
    }
    const auth = req.headers.authorization;
    if (!auth) return json({ ok: false, error: 'not_authed' });
    if (auth !== `Bearer ${token}`) return json({ ok: false, error: 'invalid_auth' });
    if (req.url === '/api/auth.test') return json({ ok: true, url: 'https://acme.slack.com/', team: 'Acme', user: 'orgloop-bot', team_id: 'T0001', user_id: 'U0001' });
    if (req.url === '/api/chat.postMessage') {
      const id = channelId(body.channel);
      if (!id) return json({ ok: false, error: 'channel_not_found' });
      if (channels.get(id)!.archived) return json({ ok: false, error: 'is_archived' });
      if (typeof body.text !== 'string' || !body.text) return json({ ok: false, error: 'no_text' });
      const stamp = `${ts++}.000100`;
      fake.messages.push({ via: 'api', channel: id, text: body.text, thread_ts: body.thread_ts, body });
      return json({ ok: true, channel: id, ts: stamp, message: { text: body.text, ts: stamp } });
    }
    return json({ ok: false, error: 'unknown_method' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(fake, {
    url,
    hookUrl: url + hookPath,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }) as FakeSlack;
}
