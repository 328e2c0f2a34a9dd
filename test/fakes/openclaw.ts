// A fake OpenClaw gateway on 127.0.0.1: `POST /hooks/agent` (Authorization: Bearer or
// x-openclaw-token; `message` required -> 400; 200 { ok, runId }), `POST /hooks/wake`, and
// `GET /health`. `state.failNext` scripts failures (status + Retry-After) for retry tests;
// `state.delayMs` slows answers for timeout tests; every accepted run is kept in `state.runs`.

import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeOpenclawState {
  token: string | null;
  runs: Array<{ runId: string; body: any; headers: Record<string, string | string[] | undefined> }>;
  requests: Array<{ method: string; path: string; status: number }>;
  failNext: Array<{ status: number; retryAfter?: string; body?: string }>;
  delayMs: number;
  hooksEnabled: boolean;
}

export interface FakeOpenclaw {
  url: string;
  state: FakeOpenclawState;
  close(): Promise<void>;
  /** resolves when `n` runs have been accepted */
  waitForRuns(n: number, timeoutMs?: number): Promise<FakeOpenclawState['runs']>;
}

export async function startFakeOpenclaw(opts: { token?: string | null } = {}): Promise<FakeOpenclaw> {
  const state: FakeOpenclawState = {
    token: opts.token === undefined ? 'oc-token' : opts.token,
    runs: [],
    requests: [],
    failNext: [],
    delayMs: 0,
    hooksEnabled: true,
  };
  const waiters: Array<() => void> = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      state.requests.push({ method: req.method ?? 'GET', path, status });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
    if (req.method === 'GET' && path === '/health') return reply(200, { ok: true, status: 'live' });
    if (!path.startsWith('/hooks/') || !state.hooksEnabled) return reply(404, { ok: false, error: 'Not Found' });
    if (new URL(req.url ?? '/', 'http://x').searchParams.has('token')) return reply(400, { ok: false, error: 'query-string tokens are not accepted' });
    if (state.token !== null) {
      const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
      const given = bearer ?? (req.headers['x-openclaw-token'] as string | undefined);
      if (given !== state.token) return reply(401, { ok: false, error: 'Unauthorized' });
    }
    if (req.method !== 'POST') return reply(405, { ok: false, error: 'Method Not Allowed' });
    let body: any;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
    } catch {
      return reply(400, { ok: false, error: 'invalid JSON' });
    }
    const fail = state.failNext.shift();
    if (fail) return reply(fail.status, fail.body ?? { ok: false, error: 'scripted failure' }, fail.retryAfter ? { 'retry-after': fail.retryAfter } : {});
    if (path === '/hooks/wake') {
      if (typeof body?.text !== 'string' || !body.text.trim()) return reply(400, { ok: false, error: 'text required' });
      return reply(200, { ok: true });
    }
    if (path !== '/hooks/agent') return reply(404, { ok: false, error: 'Not Found' });
    if (typeof body?.message !== 'string' || !body.message.trim()) return reply(400, { ok: false, error: 'message required' });
    if (body.wakeMode !== undefined && !['now', 'next-heartbeat'].includes(body.wakeMode)) {
      return reply(400, { ok: false, error: 'wakeMode must be now or next-heartbeat' });
    }
    const runId = randomUUID();
    state.runs.push({ runId, body, headers: req.headers });
    reply(200, { ok: true, runId });
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
    async waitForRuns(n, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (state.runs.length < n) {
        if (Date.now() > deadline) throw new Error(`fake OpenClaw: expected ${n} runs, got ${state.runs.length}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 100);
        });
      }
      return state.runs;
    },
  };
}

export const start = startFakeOpenclaw;
