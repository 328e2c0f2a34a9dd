// The Docker Engine API over its unix socket (or tcp://host:port), with node:http: JSON
// requests, and the finite event stream (`GET /events?since&until`, newline-delimited JSON).

import { request } from 'node:http';
import { VendorApiError } from './vendor-http.js';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
export const DOCKER_API_VERSION = 'v1.43';

export interface DockerTarget {
  socketPath?: string;
  host?: string;
  port?: number;
}

/** `socket: /path` or `host: tcp://127.0.0.1:2375` (DOCKER_HOST style). */
export function dockerTarget(config: Record<string, unknown>): DockerTarget {
  const host = typeof config.host === 'string' ? config.host.trim() : '';
  if (host.startsWith('tcp://') || host.startsWith('http://')) {
    const u = new URL(host.replace(/^tcp:/, 'http:'));
    return { host: u.hostname, port: Number(u.port || 2375) };
  }
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  return { socketPath: typeof config.socket === 'string' && config.socket ? config.socket : DEFAULT_DOCKER_SOCKET };
}

export interface DockerResponse {
  status: number;
  text: string;
}

export function dockerRequest(target: DockerTarget, method: string, path: string, body?: unknown, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<DockerResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        ...target,
        method,
        path: `/${DOCKER_API_VERSION}${path}`,
        headers: { host: 'docker', ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
        signal: opts.signal,
        timeout: opts.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('Docker Engine did not answer in time')));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new VendorApiError('Docker', 0, `Docker Engine at ${target.socketPath ?? `${target.host}:${target.port}`} is not reachable: ${err.code ?? err.message}`, true)));
    if (payload) req.write(payload);
    req.end();
  });
}

/** Docker's error bodies are `{ "message": "..." }`. */
export function dockerError(what: string, r: DockerResponse): VendorApiError {
  let msg = r.text.slice(0, 200);
  try {
    msg = (JSON.parse(r.text) as { message?: string }).message ?? msg;
  } catch {
    /* plain text */
  }
  return new VendorApiError('Docker', r.status, `Docker ${what} failed (${r.status}): ${msg}`, r.status >= 500);
}

/** Events between `since` and `until` (unix seconds, with nanoseconds as a decimal part), oldest first. */
export async function dockerEvents(target: DockerTarget, since: string, until: string, filters: Record<string, string[]>, signal?: AbortSignal): Promise<any[]> {
  const q = new URLSearchParams({ since, until, filters: JSON.stringify(filters) });
  const r = await dockerRequest(target, 'GET', `/events?${q}`, undefined, { signal });
  if (r.status !== 200) throw dockerError('events', r);
  return r.text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}
