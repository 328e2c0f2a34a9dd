// Issue 17, attacked as an adversary would: raw sockets and forged requests against the real
// executor (a child process on the built CLI). Each block reproduces one hole and checks it is
// closed; a well-formed request right after shows the executor kept serving.

import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appliedProject, cli, postJson, startExec, startRecordingSink, type Exec } from './harness.js';

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
