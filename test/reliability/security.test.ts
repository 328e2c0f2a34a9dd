// Issue 17, attacked as an adversary would: raw sockets and forged requests against the real
// executor (a child process on the built CLI). Each block reproduces one hole and checks it is
// closed; a well-formed request right after shows the executor kept serving.

import net from 'node:net';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signGithub, standardHeaders } from '../../providers/lib/signatures.js';
import { runExecutor } from '../../cmd/test-helpers/executor.js';
import { appliedProject, cli, postJson, snapshot, startExec, startRecordingSink, until, type Exec } from './harness.js';

/** Sends raw bytes on a fresh connection and resolves with everything the server answered. */
export function rawRequest(url: string, bytes: string | Buffer, timeoutMs = 10_000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), hostname);
    let out = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms; got ${JSON.stringify(out)}`));
    }, timeoutMs);
    sock.on('data', (c) => {
      out += c.toString('latin1');
      // one answer is all we wait for: a complete head plus its content-length body
      const head = out.indexOf('\r\n\r\n');
      const len = Number(/content-length:\s*(\d+)/i.exec(out)?.[1] ?? 0);
      if (head >= 0 && out.length >= head + 4 + len) {
        clearTimeout(timer);
        sock.destroy();
        resolve(out);
      }
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('end', () => {
      clearTimeout(timer);
      resolve(out);
    });
    sock.write(bytes);
  });
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);

let ex: Exec;
let sink: Awaited<ReturnType<typeof startRecordingSink>>;
let dir: string;

beforeAll(async () => {
  sink = await startRecordingSink();
  dir = await appliedProject(`
sources:
  - id: inbox
    connector: webhook
actors:
  - id: sink
    connector: webhook
    config: { url: ${sink.url}/deliver }
routes:
  - name: to-sink
    when: { source: inbox }
    then: { actor: sink }
`);
  ex = await startExec(dir);
});

afterAll(async () => {
  await ex?.kill9();
  await sink?.close();
});

async function stillServing(id: string): Promise<void> {
  const r = await postJson(`${ex.url}/webhook/inbox`, { id, type: 'ok' });
  expect(r.status).toBe(202);
}

function post(path: string, body: string, headers: Record<string, string> = {}): string {
  const h = { host: '127.0.0.1', 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers };
  return `POST ${path} HTTP/1.1\r\n${Object.entries(h)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\nconnection: close\r\n\r\n${body}`;
}

describe('hole 13: JSON nested 5,000 deep', () => {
  it('is a 400 the sender will not retry, not a 500', async () => {
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    const answer = await rawRequest(ex.url, post('/webhook/inbox', deep));
    expect(statusOf(answer)).toBe(400);
    expect(answer).toMatch(/JSON nested deeper than 128 levels/);
    const arrays = await rawRequest(ex.url, post('/webhook/inbox', '['.repeat(5000) + ']'.repeat(5000)));
    expect(statusOf(arrays)).toBe(400);
    await stillServing('after-deep');
  });

  it('brackets inside strings do not count', async () => {
    const r = await postJson(`${ex.url}/webhook/inbox`, { id: 'brackets', text: '{['.repeat(3000) });
    expect(r.status).toBe(202);
  });
});

describe('hole 14: malformed percent-encoding in the path', () => {
  for (const path of ['/webhook/%ZZ', '/webhook/%E2%82', '/callback/%ZZ', '/%']) {
    it(`${path} is a 400, not a 500`, async () => {
      const answer = await rawRequest(ex.url, post(path, '{}'));
      expect(statusOf(answer)).toBe(400);
      expect(answer).toMatch(/malformed percent-encoding/);
    });
  }
});

describe('hole 2: an empty secret at start', () => {
  const yaml = `
sources:
  - id: gh
    connector: webhook
    config: { secret: "\${GH_SECRET}", signature: github }
actors:
  - id: sink
    connector: webhook
    config: { url: http://127.0.0.1:9/x }
routes:
  - name: r
    when: { source: gh }
    then: { actor: sink }
`;

  it('validate and plan report a blank secret at file:line:col like an unset one', async () => {
    const d = await appliedProject(yaml, { '.env': 'GH_SECRET=applied-secret\n' });
    for (const value of ['', '   ']) {
      writeFileSync(join(d, '.env'), `GH_SECRET="${value}"\n`);
      for (const cmd of ['validate', 'plan']) {
        const r = await cli([cmd], { cwd: d });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/orgloop\.yaml:\d+:\d+: .*config\.secret is empty: an empty secret is an error like an unset one/);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
    }
  });

  it('start refuses to run rather than accept unsigned posts', async () => {
    const d = await appliedProject(yaml, { '.env': 'GH_SECRET=applied-secret\n' });
    writeFileSync(join(d, '.env'), 'GH_SECRET=\n');
    const r = await cli(['start', '--port', '0'], { cwd: d });
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toMatch(/source\.gh: config\.secret is empty/);
  });
});

describe('hole 1: callbacks prove they come from the delivery they report on', () => {
  /** the next delivery the sink receives for a fresh event, with the callback it was sent */
  async function delivered(id: string): Promise<{ deliveryId: string; url: string; token: string; eventId: string }> {
    const r = await postJson(`${ex.url}/webhook/inbox`, { id, type: 'task' });
    expect(r.status).toBe(202);
    const hit = await until(() => sink.hits.find((h) => h.key === id), 15_000, `delivery of ${id}`);
    const d = hit.body.delivery;
    expect(d.callback.url).toBe(`${ex.url}/callback/sink`);
    expect(d.callback.token).toMatch(/^olcb_[A-Za-z0-9_-]{43}$/);
    return { deliveryId: d.id, url: d.callback.url, token: d.callback.token, eventId: r.json.event_id };
  }

  async function stoppedEvents(): Promise<number> {
    const { events } = await snapshot(dir);
    return events.filter((e) => e.type === 'actor.stopped').length;
  }

  const cb = (path: string, body: string, headers: Record<string, string>) => rawRequest(ex.url, post(path, body, headers));

  it('a forged report is refused, and the agent’s real report still counts', async () => {
    const d = await delivered('cb-forge');
    const before = await stoppedEvents();
    const report = JSON.stringify({ delivery_id: d.deliveryId, outcome: 'success' });
    // no token; a made-up token; the token of another delivery; the right token at another actor
    const other = await delivered('cb-other');
    const forged: Array<Record<string, string>> = [{}, { authorization: 'Bearer olcb_' + 'A'.repeat(43) }, { authorization: `Bearer ${other.token}` }, { 'x-orgloop-token': 'guess' }];
    for (const headers of forged) {
      expect(statusOf(await cb('/callback/sink', report, headers))).toBe(401);
    }
    // naming only the event, or nothing, proves nothing either
    expect(statusOf(await cb('/callback/sink', JSON.stringify({ event_id: d.eventId, outcome: 'success' }), { authorization: `Bearer ${d.token}` }))).toBe(401);
    expect(statusOf(await cb('/callback/sink', '{}', {}))).toBe(401);
    expect(await stoppedEvents()).toBe(before);

    const real = await postJson(d.url, { delivery_id: d.deliveryId, outcome: 'needs-review' }, { authorization: `Bearer ${d.token}` });
    expect(real.status).toBe(202);
    expect(real.json.duplicate).toBe(false);
    expect(await stoppedEvents()).toBe(before + 1);
  });

  it('is JSON only, refused from web pages (CSRF) and under a foreign Host (DNS rebinding)', async () => {
    const d = await delivered('cb-browser');
    const report = JSON.stringify({ delivery_id: d.deliveryId, outcome: 'success' });
    const auth = { authorization: `Bearer ${d.token}` };
    const text = await cb('/callback/sink', report, { ...auth, 'content-type': 'text/plain' });
    expect(statusOf(text)).toBe(415);
    const csrf = await cb('/callback/sink', report, { ...auth, origin: 'https://evil.example' });
    expect(statusOf(csrf)).toBe(403);
    const fetchMeta = await cb('/callback/sink', report, { ...auth, 'sec-fetch-site': 'cross-site' });
    expect(statusOf(fetchMeta)).toBe(403);
    const rebound = await cb('/callback/sink', report, { ...auth, host: `rebind.evil.example:${new URL(ex.url).port}` });
    expect(statusOf(rebound)).toBe(421);
    expect(rebound).toMatch(/not an allowed name/);
    // a web page posting an event to an unsigned source through the visitor's browser
    const simple = await rawRequest(ex.url, post('/webhook/inbox', JSON.stringify({ id: 'csrf' }), { origin: 'https://evil.example', 'content-type': 'text/plain' }));
    expect(statusOf(simple)).toBe(403);
    // the real report, with an allowed name
    for (const host of ['localhost', '127.0.0.1']) {
      const ok = await cb('/callback/sink', report, { ...auth, host: `${host}:${new URL(ex.url).port}` });
      expect([200, 202]).toContain(statusOf(ok));
    }
  });
});

describe('hole 16: what anonymous callers learn, and binding beyond loopback', () => {
  it('/healthz tells a remote or proxied caller only that it is up', async () => {
    const local = (await (await fetch(`${ex.url}/healthz`)).json()) as Record<string, unknown>;
    expect(local).toMatchObject({ ok: true, serial: 1 });
    const get = (headers: Record<string, string>) =>
      `GET /healthz HTTP/1.1\r\n${Object.entries({ host: '127.0.0.1', ...headers })
        .map(([k, v]) => `${k}: ${v}`)
        .join('\r\n')}\r\nconnection: close\r\n\r\n`;
    const remote: Array<Record<string, string>> = [{ 'x-forwarded-for': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' }, { host: 'orgloop.example.com' }, { origin: 'https://evil.example' }];
    for (const headers of remote) {
      const answer = await rawRequest(ex.url, get(headers));
      expect(statusOf(answer)).toBe(200);
      expect(answer.slice(answer.indexOf('\r\n\r\n') + 4)).toBe('{"ok":true}');
    }
  });

  it('start --host 0.0.0.0 warns that the port is reachable beyond this machine', async () => {
    const own = await appliedProject(`
sources:
  - id: inbox
    connector: webhook
`);
    const wide = await runExecutor(['start', '--port', '0', '--host', '0.0.0.0'], { cwd: own });
    try {
      await wide.waitFor(/warning: listening on 0\.0\.0\.0, beyond this machine/);
    } finally {
      await wide.stop();
    }
    const narrow = await runExecutor(['start', '--port', '0', '--host', '127.0.0.1'], { cwd: own });
    try {
      expect(narrow.output()).not.toMatch(/beyond this machine/);
    } finally {
      await narrow.stop();
    }
  });
});

describe('hole 7: slow clients cannot hold the executor', () => {
  it('trickling headers and bodies are cut off, connections stay capped, /healthz keeps answering', async () => {
    const own = await appliedProject(`
sources:
  - id: inbox
    connector: webhook
`);
    const limited = await startExec(own, {
      ORGLOOP_MAX_CONNECTIONS: '100',
      ORGLOOP_HEADERS_TIMEOUT_MS: '1500',
      ORGLOOP_REQUEST_TIMEOUT_MS: '3000',
      ORGLOOP_IDLE_TIMEOUT_MS: '3000',
    });
    const { hostname, port } = new URL(limited.url);
    const attackers: net.Socket[] = [];
    const closed = new Set<net.Socket>();
    const trickle: NodeJS.Timeout[] = [];
    try {
      // 300 slow clients, three times the cap: a third never finish their headers, a third
      // declare a body and send it a byte at a time, a third connect and say nothing
      for (let i = 0; i < 300; i++) {
        const s = net.connect(Number(port), hostname);
        s.on('error', () => {});
        s.resume(); // read what the server answers, so its FIN is seen
        s.on('close', () => closed.add(s));
        attackers.push(s);
        s.once('connect', () => {
          if (i % 3 === 0) s.write('POST /webhook/inbox HTTP/1.1\r\nHost: 127.0.0.1\r\n');
          if (i % 3 === 1) s.write('POST /webhook/inbox HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{');
        });
        if (i % 3 !== 2) trickle.push(setInterval(() => s.writable && s.write(i % 3 === 0 ? 'x' : ' '), 250));
        if (i % 10 === 0) await new Promise((r) => setImmediate(r));
      }
      // while they trickle, health checks and real events still get through, promptly
      for (let i = 0; i < 5; i++) {
        const t = Date.now();
        const h = await fetch(`${limited.url}/healthz`, { signal: AbortSignal.timeout(3000) });
        expect(h.status).toBe(200);
        expect(Date.now() - t).toBeLessThan(2000);
        const r = await postJson(`${limited.url}/webhook/inbox`, { id: `during-${i}` });
        expect(r.status).toBe(202);
        const fds = readdirSync(`/proc/${limited.pid}/fd`).length;
        // the cap plus the store, the log and node's own descriptors
        expect(fds).toBeLessThan(100 + 60);
      }
      // every slow client is cut off by a deadline or shed for a newer connection
      await until(() => closed.size === attackers.length, 8000, `all ${attackers.length} slow connections closed (${closed.size} so far)`);
    } finally {
      for (const t of trickle) clearInterval(t);
      for (const s of attackers) s.destroy();
      await limited.kill9();
    }
  });
});

describe('holes 6 and 20: what makes a webhook a duplicate', () => {
  const STD = 'whsec_' + Buffer.from('identity-secret-0123456789abcdef').toString('base64');
  let idEx: Exec;
  beforeAll(async () => {
    const own = await appliedProject(
      `
sources:
  - id: std
    connector: webhook
    config: { secret: "\${STD_SECRET}", signature: standard }
  - id: gh
    connector: webhook
    config: { secret: "\${GH_SECRET}", signature: github }
  - id: ghhook
    connector: github-webhook
    config: { secret: "\${GH_SECRET}" }
  - id: plain
    connector: webhook
  - id: tickets
    connector: webhook
    config: { dedupe_field: ticket.id }
`,
      { '.env': `STD_SECRET=${STD}\nGH_SECRET=gh-identity-secret\n` },
    );
    idEx = await startExec(own);
  });
  afterAll(async () => {
    await idEx?.kill9();
  });
  const send = (path: string, body: string, headers: Record<string, string>) => postJson(`${idEx.url}${path}`, body, headers);

  it('Standard Webhooks: the signed webhook-id decides, an added X-GitHub-Delivery does not', async () => {
    const body = JSON.stringify({ type: 'invoice.paid', id: 'inv_1' });
    const headers = standardHeaders(STD, 'msg_std_1', body);
    const first = await send('/webhook/std', body, headers);
    expect(first.status).toBe(202);
    const extras: Array<Record<string, string>> = [{ 'x-github-delivery': 'forged-1' }, { 'idempotency-key': 'forged-2' }, {}];
    for (const extra of extras) {
      const replay = await send('/webhook/std', body, { ...headers, ...extra });
      expect(replay.status).toBe(200);
      expect(replay.json).toMatchObject({ duplicate: true, event_id: first.json.event_id });
    }
  });

  it('GitHub-style signatures: a replay of the signed body is a duplicate whatever the delivery headers say', async () => {
    for (const path of ['/webhook/gh', '/webhook/ghhook']) {
      const body = JSON.stringify({ action: 'opened', number: 7, pull_request: { title: 'x' }, path });
      const sig = { 'x-hub-signature-256': signGithub('gh-identity-secret', body), 'x-github-event': 'pull_request' };
      const first = await send(path, body, { ...sig, 'x-github-delivery': 'real-1' });
      expect(first.status).toBe(202);
      const extras: Array<Record<string, string>> = [{ 'x-github-delivery': 'changed-2' }, {}, { 'webhook-id': 'added-3' }];
      for (const extra of extras) {
        const replay = await send(path, body, { ...sig, ...extra });
        expect([path, replay.status, replay.json.duplicate]).toEqual([path, 200, true]);
      }
      // a different signed body is a different event
      const other = JSON.stringify({ action: 'closed', number: 7, pull_request: { title: 'x' }, path });
      const next = await send(path, other, { 'x-hub-signature-256': signGithub('gh-identity-secret', other), 'x-github-event': 'pull_request', 'x-github-delivery': 'real-1' });
      expect(next.status).toBe(202);
    }
  });

  it('an unsigned source dedupes on delivery id headers, never silently on a body id', async () => {
    const open = await send('/webhook/plain', JSON.stringify({ id: 'T-1', status: 'open' }), {});
    const closed = await send('/webhook/plain', JSON.stringify({ id: 'T-1', status: 'closed' }), {});
    expect([open.status, closed.status]).toEqual([202, 202]);
    expect(closed.json.event_id).not.toBe(open.json.event_id);
    const a = await send('/webhook/plain', JSON.stringify({ n: 1 }), { 'x-github-delivery': 'del-1' });
    const b = await send('/webhook/plain', JSON.stringify({ n: 1 }), { 'x-github-delivery': 'del-1' });
    expect([a.status, b.status, b.json.duplicate]).toEqual([202, 200, true]);
  });

  it('a body field is the identity when the source config names it', async () => {
    const open = await send('/webhook/tickets', JSON.stringify({ ticket: { id: 'T-9' }, status: 'open' }), {});
    const again = await send('/webhook/tickets', JSON.stringify({ ticket: { id: 'T-9' }, status: 'open', retry: true }), {});
    expect([open.status, again.status, again.json.duplicate]).toEqual([202, 200, true]);
  });
});

describe('hole 15: escape sequences in payloads never reach the terminal', () => {
  it('events list, logs and the console logger show them escaped; JSON output stays exact', async () => {
    const evil = '\x1b]0;pwned\x07\x1b[2J\x1b[31mFAKE';
    const r = await postJson(`${ex.url}/webhook/inbox`, { id: 'esc-1', type: evil });
    expect(r.status).toBe(202);
    await until(() => ex.output().includes('FAKE'), 10_000, 'the event on the console');
    const esc = { test: (s: string) => s.includes(String.fromCharCode(0x1b)) || s.includes(String.fromCharCode(0x07)) };
    expect(esc.test(ex.output())).toBe(false);
    expect(ex.output()).toContain('\\x1b]0;pwned\\x07');
    const listed = await cli(['events', 'list'], { cwd: dir });
    expect(listed.stdout).toContain('\\x1b[2J');
    expect(esc.test(listed.stdout)).toBe(false);
    const logs = await until(async () => {
      const l = await cli(['logs'], { cwd: dir });
      return l.stdout.includes('FAKE') && l;
    }, 10_000, 'the log rows');
    expect(esc.test(logs.stdout)).toBe(false);
    const json = await cli(['events', 'list', '--json'], { cwd: dir });
    const events = JSON.parse(json.stdout) as Array<{ payload: { provenance: { platform_event?: string } } }>;
    expect(events.some((e) => e.payload.provenance.platform_event === evil)).toBe(true);
  });
});

describe('hole 1: callback tokens are keyed outside the store', () => {
  it('a token survives an executor restart with the same state key, and a store copy cannot mint one', async () => {
    const own = await appliedProject(`
sources:
  - id: in
    connector: webhook
actors:
  - id: sink
    connector: webhook
    config: { url: ${sink.url}/deliver }
routes:
  - name: r
    when: { source: in }
    then: { actor: sink }
`);
    const env = { ORGLOOP_STATE_KEY: 'restart-test-key-0123456789' };
    let first = await startExec(own, env);
    const r = await postJson(`${first.url}/webhook/in`, { id: 'restart-1' });
    expect(r.status).toBe(202);
    const hit = await until(() => sink.hits.find((h) => h.key === 'restart-1'), 15_000, 'delivery');
    const { id, callback } = hit.body.delivery;
    await first.kill9();
    first = await startExec(own, { ORGLOOP_STATE_KEY: 'another-key-9876543210' });
    const url = `${first.url}/callback/sink`;
    const report = { delivery_id: id, outcome: 'success' };
    expect((await postJson(url, report, { authorization: `Bearer ${callback.token}` })).status).toBe(401);
    await first.kill9();
    const again = await startExec(own, env);
    try {
      const ok = await postJson(`${again.url}/callback/sink`, report, { authorization: `Bearer ${callback.token}` });
      expect([200, 202]).toContain(ok.status);
    } finally {
      await again.kill9();
    }
  });
});

describe('hole 8: secrets echoed by an actor never reach the store or the screen', () => {
  it('a 401 quoting the bearer token is stored and shown with the token scrubbed', async () => {
    const TOKEN = 'sk-live-echoed-credential-4242';
    const echo = await startRecordingSink((_hit, res) => {
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end(`invalid credentials: Authorization: Bearer ${TOKEN}`);
      return 'handled';
    });
    const own = await appliedProject(
      `
sources:
  - id: in
    connector: webhook
actors:
  - id: api
    connector: webhook
    config: { url: ${echo.url}/x, auth: { bearer: "\${API_TOKEN}" } }
routes:
  - name: r
    when: { source: in }
    then: { actor: api }
`,
      { '.env': `API_TOKEN=${TOKEN}\n` },
    );
    const e = await startExec(own);
    try {
      expect((await postJson(`${e.url}/webhook/in`, { id: 'leak-1' })).status).toBe(202);
      const dead = await until(async () => (await snapshot(own)).deliveries.find((d) => d.last_error), 15_000, 'the failed delivery');
      expect(dead.last_error).toContain('[redacted]');
      expect(dead.last_error).not.toContain(TOKEN);
      await until(() => e.output().includes('[redacted]'), 10_000, 'the console line');
      expect(e.output()).not.toContain(TOKEN);
      for (const args of [['deliveries', 'list'], ['deliveries', 'show', dead.id], ['logs']]) {
        const r = await cli(args, { cwd: own });
        expect([args.join(' '), r.stdout.includes(TOKEN)]).toEqual([args.join(' '), false]);
      }
    } finally {
      await e.kill9();
      await echo.close();
    }
  });
});

describe('hole 9: event values are encoded for where the template puts them', () => {
  it('a repo of ../../admin/delete?x= stays one path segment, a title cannot add a JSON key', async () => {
    const target = await startRecordingSink();
    const own = await appliedProject(
      `
sources:
  - id: in
    connector: webhook
actors:
  - id: api
    connector: webhook
    config:
      url: "${target.url}/repos/{{payload.repo}}/issues"
      auth: { bearer: "\${API_TOKEN}" }
      body: '{"channel": "#eng", "text": "{{payload.title}}"}'
routes:
  - name: r
    when: { source: in }
    then: { actor: api }
`,
      { '.env': 'API_TOKEN=tok-for-repos-only\n' },
    );
    const e = await startExec(own);
    try {
      const title = 'hi", "channel": "#admins';
      expect((await postJson(`${e.url}/webhook/in`, { id: 'tpl-1', repo: '../../admin/delete?x=', title })).status).toBe(202);
      expect((await postJson(`${e.url}/webhook/in`, { id: 'tpl-2', repo: '..', title: 'dot' })).status).toBe(202);
      await until(() => target.hits.length >= 1, 15_000, 'the first delivery');
      const refused = await until(async () => (await snapshot(own)).deliveries.find((d) => d.status === 'dead'), 15_000, 'the dot-segment delivery failing at once');
      expect(refused.last_error).toContain('makes the path segment ".."');
      expect(target.hits.map((h) => h.path)).toEqual(['/repos/..%2F..%2Fadmin%2Fdelete%3Fx%3D/issues']);
      expect(target.hits[0]!.body).toEqual({ channel: '#eng', text: title });
    } finally {
      await e.kill9();
      await target.close();
    }
  });
});
