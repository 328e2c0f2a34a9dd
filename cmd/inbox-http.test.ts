// The executor's inbox API (OrgLoop's /api/inbox/*) end to end: a real executor with an inbox
// route to a command actor that records each notification with the per-delivery token it was
// sent, and a real HTTP client (node:http, so Host and Origin are ours to set). Reads answer to
// the Host and browser rules; a drain also needs JSON and a proof: the console token, or the
// token of a notification of that very key.

import http from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, runExecutor, tempProject, until, type RunningExecutor } from './test-helpers/executor.js';

const running: RunningExecutor[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

const CONSOLE_TOKEN = 'console-token-for-tests';
const PROJECT = `
sources:
  - id: hooks
    connector: webhook
actors:
  - id: agent
    connector: command
    config:
      command: |
        printf '{"delivery":"%s","token":"%s","event":%s}\\n' "$ORGLOOP_DELIVERY_ID" "$ORGLOOP_CALLBACK_TOKEN" "$(cat)" >> woken.jsonl
routes:
  - name: batched
    when: { source: hooks }
    then:
      actor: agent
      config: { inbox: true, session_key: "pr-{{payload.pr}}", inbox_max_batch: 2 }
`;

interface Woken {
  delivery: string;
  token: string;
  event: { payload: { session_key: string } };
}
const woken = (dir: string): Woken[] => {
  const f = join(dir, 'woken.jsonl');
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)) : [];
};

interface Answer {
  status: number;
  body: any;
}

/** One request with exactly these headers (fetch would not let a test set Host). */
function call(base: string, method: string, path: string, o: { headers?: Record<string, string>; body?: unknown } = {}): Promise<Answer> {
  const u = new URL(path, base);
  const body = o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  const headers: Record<string, string> = { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers };
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path: u.pathname + u.search, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : null });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the inbox API', () => {
  it('status and list read the store; a drain needs JSON, an allowed Host, no browser and the console token or a notification token of that key', async () => {
    const dir = tempProject({ 'orgloop.yaml': PROJECT });
    expect((await cli(['apply', '--auto-approve'], { cwd: dir })).code).toBe(0);
    const ex = await runExecutor(['start', '--port', '0'], { cwd: dir, env: { ORGLOOP_CONSOLE_TOKEN: CONSOLE_TOKEN } });
    running.push(ex);
    for (const [pr, n] of [[7, 1], [7, 2], [7, 3], [8, 4]]) {
      const r = await call(ex.url, 'POST', '/webhook/hooks', { body: { pr, n } });
      expect(r.status).toBe(202);
    }
    const notes = await until(() => (woken(dir).length >= 2 ? woken(dir) : null), 15_000, 'a notification per key');
    const note = (key: string) => notes.find((w) => w.event.payload.session_key === key)!;
    expect(note('pr-7').token).toMatch(/^olcb_/);
    await until(async () => (await call(ex.url, 'GET', '/api/inbox/status?session_key=pr-7')).body.pending === 3, 15_000, 'three entries of pr-7');

    // reads
    const list = await call(ex.url, 'GET', '/api/inbox/list');
    expect(list.status).toBe(200);
    expect(list.body.sessions.map((s: any) => [s.sessionKey, s.pending, s.route, s.actor, s.notified])).toEqual([
      ['pr-7', 3, 'batched', 'agent', true],
      ['pr-8', 1, 'batched', 'agent', true],
    ]);
    expect((await call(ex.url, 'GET', '/api/inbox/status?session_key=pr-7')).body).toMatchObject({ pending: 3, route: 'batched', actor: 'agent', notified: true });
    expect(await call(ex.url, 'GET', '/api/inbox/status?session_key=nobody')).toEqual({ status: 200, body: { pending: 0 } });
    expect((await call(ex.url, 'GET', '/api/inbox/status')).status).toBe(400);
    expect((await call(ex.url, 'GET', '/api/inbox/list', { headers: { host: 'evil.example:4800' } })).status).toBe(421);
    expect((await call(ex.url, 'GET', '/api/inbox/list', { headers: { origin: 'https://evil.example' } })).status).toBe(403);

    // a drain is never a GET, and is refused without every check passing
    const mine = { session_key: 'pr-7', delivery_id: note('pr-7').delivery, limit: 2 };
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    expect((await call(ex.url, 'GET', '/api/inbox/drain?session_key=pr-7')).status).toBe(405);
    expect((await call(ex.url, 'POST', '/api/inbox/drain', { body: mine })).status).toBe(401);
    expect((await call(ex.url, 'POST', '/api/inbox/drain', { body: JSON.stringify(mine), headers: { 'content-type': 'text/plain', ...bearer(note('pr-7').token) } })).status).toBe(415);
    expect((await call(ex.url, 'POST', '/api/inbox/drain', { body: mine, headers: { origin: 'https://evil.example', ...bearer(note('pr-7').token) } })).status).toBe(403);
    expect((await call(ex.url, 'POST', '/api/inbox/drain', { body: mine, headers: { host: 'evil.example', ...bearer(note('pr-7').token) } })).status).toBe(421);
    expect((await call(ex.url, 'POST', '/api/inbox/drain', { body: mine, headers: bearer('not-the-console-token') })).status).toBe(401);
    // the token of pr-8's notification does not open pr-7's inbox, named with either delivery
    const other = await call(ex.url, 'POST', '/api/inbox/drain', { body: { ...mine, delivery_id: note('pr-8').delivery }, headers: bearer(note('pr-8').token) });
    expect(other).toEqual({ status: 401, body: { error: 'the token does not match a notification of inbox "pr-7"' } });
    expect((await call(ex.url, 'POST', '/api/inbox/drain', { body: mine, headers: bearer(note('pr-8').token) })).status).toBe(401);
    expect((await call(ex.url, 'POST', '/api/inbox/drain', { body: { ...mine, limit: 0 }, headers: bearer(note('pr-7').token) })).status).toBe(400);
    // nothing was handed out by any of those
    expect((await call(ex.url, 'GET', '/api/inbox/status?session_key=pr-7')).body.pending).toBe(3);

    // the agent woken for pr-7 drains it with its own token: oldest first, as `orgloop inbox drain`
    const d1 = await call(ex.url, 'POST', '/api/inbox/drain', { body: mine, headers: bearer(note('pr-7').token) });
    expect(d1.status).toBe(200);
    expect(d1.body.events.map((e: any) => e.payload.n)).toEqual([1, 2]);
    expect(d1.body).toMatchObject({ remaining: 1, continuation: expect.stringMatching(/^\d+$/) });
    // the operator drains pr-8 with the console token (the route's inbox_max_batch without a limit)
    const d2 = await call(ex.url, 'POST', '/api/inbox/drain', { body: { session_key: 'pr-8' }, headers: bearer(CONSOLE_TOKEN) });
    expect(d2.status).toBe(200);
    expect(d2.body).toMatchObject({ remaining: 0, continuation: null });
    expect(d2.body.events.map((e: any) => e.payload.n)).toEqual([4]);
    // the CLI reads the same store
    const st = await cli(['inbox', 'status', '--json'], { cwd: dir });
    expect(JSON.parse(st.stdout).sessions.map((s: any) => [s.sessionKey, s.pending])).toEqual([['pr-7', 1]]);
  });
});
