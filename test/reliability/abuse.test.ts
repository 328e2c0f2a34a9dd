// Scenario 7: webhook abuse against the real executor. Each bad request gets its own clean 4xx
// and a good request right after it is still accepted; 1,000 identical deliveries make one
// event; a 50 MB body is refused without the executor's memory following it.

import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signStandard, standardHeaders } from '../../providers/lib/signatures.js';
import { appliedProject, byKey, memoryOf, snapshot, startExec, startRecordingSink, until, type Exec } from './harness.js';

const SECRET = 'whsec_' + Buffer.from('reliability-secret-0123456789abcdef').toString('base64');

let ex: Exec;
let sink: Awaited<ReturnType<typeof startRecordingSink>>;
let dir: string;
let good = 0;

beforeAll(async () => {
  sink = await startRecordingSink();
  dir = await appliedProject(
    `
sources:
  - id: signed
    connector: webhook
    config: { secret: "\${HOOK_SECRET}", signature: standard }
  - id: small
    connector: webhook
    config: { max_body: 1mb }
  - id: inbox
    connector: webhook
actors:
  - id: sink
    connector: webhook
    config: { url: ${sink.url}/deliver }
routes:
  - name: from-signed
    when: { source: signed }
    then: { actor: sink }
  - name: from-small
    when: { source: small }
    then: { actor: sink }
  - name: from-inbox
    when: { source: inbox }
    then: { actor: sink }
`,
    { '.env': `HOOK_SECRET=${SECRET}\n` },
  );
  ex = await startExec(dir);
});

afterAll(async () => {
  await ex?.kill9();
  await sink?.close();
});

async function post(path: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(`${ex.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, text };
}

/** A well-formed request still succeeds: the executor kept serving. */
async function stillServing(): Promise<void> {
  const r = await post('/webhook/inbox', JSON.stringify({ id: `good-${good++}`, type: 'ok' }));
  expect(r.status).toBe(202);
}

function signed(id: string, body: string, now = new Date()) {
  return { 'webhook-id': id, ...standardHeaders(SECRET, id, body, now) };
}

/** Streams `total` bytes as a chunked upload (no content-length) and resolves with the status. */
function chunkedUpload(path: string, total: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(`${ex.url}${path}`);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json' } });
    let status = 0;
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      res.resume();
      res.on('end', () => resolve(status));
    });
    req.on('error', (err) => (status ? resolve(status) : reject(err)));
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    req.write('{"pad":"');
    pump();
  });
}

describe('reliability: webhook abuse (scenario 7)', () => {
  it('1,000 identical signed deliveries sent concurrently make one event and one delivery', async () => {
    const body = JSON.stringify({ id: 'storm', type: 'storm' });
    const headers = signed('msg_storm_1', body);
    const results = await Promise.all(Array.from({ length: 1000 }, () => post('/webhook/signed', body, headers)));
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 202 || s === 200)).toBe(true);
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(new Set(results.map((r) => r.json.event_id)).size).toBe(1);
    await until(() => byKey(sink.hits).has('storm'), 10_000, 'storm delivered');
    const { events, deliveries } = await snapshot(dir);
    expect(events.filter((e) => e.dedupe_key === 'msg_storm_1')).toHaveLength(1);
    expect(deliveries.filter((d) => d.event_id === results[0]!.json.event_id)).toHaveLength(1);
    await stillServing();
  });

  it('rejects a correctly signed Standard Webhooks request replayed outside the window, and a bad signature, with 401', async () => {
    const body = JSON.stringify({ id: 'replay', type: 'x' });
    const old = new Date(Date.now() - 10 * 60_000);
    const replay = await post('/webhook/signed', body, signed('msg_replay', body, old));
    expect(replay.status).toBe(401);
    expect(replay.json.error).toBe('webhook-timestamp outside the 300s replay window');
    await stillServing();

    const ts = Math.floor(Date.now() / 1000);
    const forged = await post('/webhook/signed', body, {
      'webhook-id': 'msg_forged',
      'webhook-timestamp': String(ts),
      'webhook-signature': signStandard('whsec_' + Buffer.from('wrong').toString('base64'), 'msg_forged', ts, body),
    });
    expect(forged.status).toBe(401);
    expect(forged.json.error).toBe('webhook-signature does not match');
    await stillServing();

    const unsigned = await post('/webhook/signed', body);
    expect(unsigned.status).toBe(401);
    expect(unsigned.json.error).toMatch(/missing Standard Webhooks header\(s\): webhook-id, webhook-timestamp, webhook-signature/);
    await stillServing();
    const { events } = await snapshot(dir);
    expect(events.filter((e) => ['msg_replay', 'msg_forged'].includes(e.dedupe_key ?? ''))).toEqual([]);
  });

  it('answers malformed JSON, a wrong content type, a non-object body and an unknown source with clean 4xx', async () => {
    const bad = await post('/webhook/inbox', '{"id": ');
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/^invalid JSON body: /);
    await stillServing();

    const form = await post('/webhook/inbox', 'a=1', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    expect(form.json.error).toBe('unsupported content type "application/x-www-form-urlencoded": send application/json');
    await stillServing();

    const arr = await post('/webhook/inbox', '[1,2]');
    expect(arr.status).toBe(400);
    expect(arr.json.error).toBe('JSON body must be an object');
    await stillServing();

    const unknown = await post('/webhook/nope', '{}');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toBe('unknown source "nope"');
    await stillServing();

    const get = await fetch(`${ex.url}/webhook/inbox`);
    expect(get.status).toBe(405);
    await stillServing();

    // a broken HTTP request line is answered 400 by the server itself
    const raw = await new Promise<string>((resolve) => {
      const u = new URL(ex.url);
      const s = net.connect(Number(u.port), u.hostname, () => s.write('POST /webhook/inbox HTTP/1.1\r\nContent-Length: nope\r\n\r\n'));
      let got = '';
      s.on('data', (c) => (got += c));
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    await stillServing();
    expect(ex.output()).toMatch(/ingress\.reject .*415/);
  });

  it('refuses a 50 MB body with 413 without its memory growing by the body size', async () => {
    const before = memoryOf(ex.pid);
    // declared length over the webhook source's default 1 MB limit: refused before reading
    const big = Buffer.alloc(50 * 1024 * 1024, 0x20);
    const declared = await post('/webhook/inbox', big);
    expect(declared.status).toBe(413);
    expect(declared.json.error).toBe(`body of ${big.length} bytes exceeds the limit of ${1024 * 1024} bytes`);
    await stillServing();
    // streamed without a length to a source limited to 1 MB: cut off at the limit
    const streamed = await chunkedUpload('/webhook/small', 50 * 1024 * 1024);
    expect(streamed).toBe(413);
    await stillServing();
    const after = memoryOf(ex.pid);
    // The peak RSS may rise by buffers and the 1 MB that was read, never by the 50 MB sent.
    expect(after.peak - Math.max(before.peak, before.rss)).toBeLessThan(40 * 1024 * 1024);
    expect(ex.output()).toMatch(/ingress\.reject .*413/);
    expect(ex.proc.exitCode).toBeNull();
  });
});
