// Fault-injection harness: the real executor as a child process (reusing the e2e helpers in
// cmd/test-helpers), a sink that records every delivery with its webhook-id and can act on the
// executor from inside its handler (SIGSTOP / SIGKILL), a load sender, and read access to the
// store the executor writes.

import http from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { applyDirect, runExecutor, tempProject, type RunningExecutor } from '../../cmd/test-helpers/executor.js';
import { openStore } from '../../state/open.js';
import type { Delivery, Store, StoredEvent } from '../../state/store.js';

export { applyDirect, cli, postJson, tempProject, until } from '../../cmd/test-helpers/executor.js';

export interface Exec extends RunningExecutor {
  pid: number;
  /** SIGKILL and wait until the process is gone */
  kill9(): Promise<void>;
}

/** Starts `orgloop start --port 0` in `dir` (already applied). */
export async function startExec(dir: string, env: NodeJS.ProcessEnv = {}): Promise<Exec> {
  const ex = await runExecutor(['start', '--port', '0'], { cwd: dir, env });
  const exited = new Promise<void>((r) => (ex.proc.exitCode !== null || ex.proc.signalCode !== null ? r() : ex.proc.once('exit', () => r())));
  return Object.assign(ex, {
    pid: ex.proc.pid!,
    kill9: async () => {
      if (ex.proc.exitCode === null && ex.proc.signalCode === null) ex.proc.kill('SIGKILL');
      await exited;
    },
  });
}

/** A temp project written and applied (version 1), ready for `startExec`. */
export async function appliedProject(yaml: string, extra: Record<string, string> = {}): Promise<string> {
  const dir = tempProject({ 'orgloop.yaml': yaml, ...extra });
  await applyDirect(dir);
  return dir;
}

export const statePath = (dir: string) => join(dir, '.orgloop', 'state.db');

/** Opens the store the executor writes (a second SQLite connection; WAL allows it). */
export function openState(dir: string): Promise<Store> {
  return openStore(statePath(dir));
}

export async function snapshot(dir: string): Promise<{ events: StoredEvent[]; deliveries: Delivery[] }> {
  const store = await openState(dir);
  try {
    return { events: await store.events({}), deliveries: await store.deliveries({}) };
  } finally {
    await store.close();
  }
}

export interface SinkHit {
  webhookId: string;
  /** the original event's payload.id (what the load sender put in) */
  key: string | undefined;
  attempt: number | undefined;
  at: number;
  body: any;
  /** request target as sent (path and query) */
  path: string;
}

export type SinkReply = { status: number; headers?: Record<string, string> };
export type SinkHandler = (hit: SinkHit, res: http.ServerResponse) => SinkReply | Promise<SinkReply> | 'handled';

/** Records every delivery; `handler` decides the answer (default 200 at once). `host`: the address it listens on. */
export async function startRecordingSink(handler: SinkHandler = () => ({ status: 200 }), host = '127.0.0.1') {
  const hits: SinkHit[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: any = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        /* recorded as null */
      }
      const hit: SinkHit = {
        webhookId: String(req.headers['webhook-id'] ?? ''),
        key: body?.event?.payload?.id,
        attempt: body?.delivery?.attempt,
        at: Date.now(),
        body,
        path: req.url ?? '',
      };
      hits.push(hit);
      void Promise.resolve(handler(hit, res)).then((r) => {
        if (r === 'handled') return;
        res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
        res.end('{}');
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    hits,
    handler: (h: SinkHandler) => (handler = h),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface Sent {
  key: string;
  status: number; // 0 = no answer (connection failed)
}

/**
 * Posts `n` JSON events {id: prefix-i} to `url` with `concurrency` requests in flight, recording
 * each answer. Stops early (remaining unsent) when `stop()` turns true.
 */
export async function sendLoad(url: string, n: number, opts: { prefix: string; concurrency?: number; stop?: () => boolean; bytes?: number }): Promise<Sent[]> {
  const out: Sent[] = [];
  let next = 0;
  const pad = opts.bytes ? 'x'.repeat(opts.bytes) : undefined;
  const worker = async () => {
    while (next < n && !opts.stop?.()) {
      const key = `${opts.prefix}-${next++}`;
      let status = 0;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id: key, type: 'load', ...(pad ? { pad } : {}) }),
          signal: AbortSignal.timeout(10_000),
        });
        status = res.status;
        await res.arrayBuffer();
      } catch {
        status = 0;
      }
      out.push({ key, status });
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  return out;
}

export const acked = (sent: Sent[]) => sent.filter((s) => s.status >= 200 && s.status < 300).map((s) => s.key);

/** VmRSS and VmHWM (peak) of a process in bytes, from /proc/<pid>/status. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Groups sink hits by the event key they carried. */
export function byKey(hits: SinkHit[]): Map<string, SinkHit[]> {
  const m = new Map<string, SinkHit[]>();
  for (const h of hits) {
    if (h.key === undefined) continue;
    const list = m.get(h.key) ?? [];
    list.push(h);
    m.set(h.key, list);
  }
  return m;
}

/** A project with one plain webhook source routed to a webhook actor at `sinkUrl` (`actorExtra`: more lines of its config). */
export function webhookToSink(sinkUrl: string, routeExtra = '', actorExtra = ''): string {
  return `
sources:
  - id: inbox
    connector: webhook
actors:
  - id: sink
    connector: webhook
    config:
      url: ${sinkUrl}/deliver
${actorExtra}
routes:
  - name: to-sink
    when: { source: inbox }
    then: { actor: sink }
${routeExtra}`;
}

export interface ProxyRequest {
  method: string;
  path: string;
  start: number;
  end: number;
}

/** One request to the proxied API: an http origin, or `unix:<socket path>` (the Docker Engine). */
async function forward(target: string, req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: Headers; arrayBuffer(): Promise<ArrayBuffer> }> {
  const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k))) as Record<string, string>;
  const withBody = !(req.method === 'GET' || req.method === 'HEAD');
  if (!target.startsWith('unix:')) return fetch(target + req.url, { method: req.method, headers, body: withBody ? body : undefined });
  return new Promise((resolve, reject) => {
    const up = http.request({ socketPath: target.slice('unix:'.length), path: req.url, method: req.method, headers: { ...headers, host: 'docker' } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        const buf = Buffer.concat(parts);
        resolve({ status: res.statusCode ?? 502, headers: h, arrayBuffer: async () => buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer });
      });
    });
    up.on('error', reject);
    if (withBody) up.write(body);
    up.end();
  });
}

/**
 * A pass-through HTTP proxy (in front of a fake API: an http origin or `unix:<socket>`) that records each request's time span and
 * the most requests it ever had in flight at once. `hook` runs after the upstream answered and
 * before the answer is relayed: it may delay, or act on the client (freeze or kill it).
 */
export async function startProxy(target: string, hook: (method: string, path: string) => Promise<void> | void = () => {}) {
  const requests: ProxyRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    const start = Date.now();
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let counted = true;
    const done = () => {
      if (!counted) return;
      counted = false;
      inFlight--;
      requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', start, end: Date.now() });
    };
    res.on('close', done);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        const upstream = await forward(target, req, Buffer.concat(chunks));
        const body = Buffer.from(await upstream.arrayBuffer());
        await hook(req.method ?? 'GET', req.url ?? '/');
        if (res.destroyed) return;
        const headers: Record<string, string> = {};
        upstream.headers.forEach((v, k) => {
          if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(k)) headers[k] = v;
        });
        res.writeHead(upstream.status, headers);
        res.end(body);
      } catch {
        res.destroy();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    maxInFlight: () => maxInFlight,
    hook: (h: typeof hook) => (hook = h),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
