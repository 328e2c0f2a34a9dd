// One HTTP request over node:http(s) with keep-alive agents, shared by providers that talk HTTP
// a lot (the webhook actor, the GitHub client). Several times cheaper in CPU per request than
// global fetch (undici), which matters for many small deliveries and for thousands of polls a
// minute that mostly answer 304.

import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type RequestOptions as NodeRequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { urlToHttpOptions } from 'node:url';

export interface HttpResponse {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface KeepAliveAgents {
  http: HttpAgent;
  https: HttpsAgent;
}

/** A pair of keep-alive agents; `maxSockets` bounds the connections per origin. */
export function keepAliveAgents(maxSockets: number): KeepAliveAgents {
  return { http: new HttpAgent({ keepAlive: true, maxSockets }), https: new HttpsAgent({ keepAlive: true, maxSockets }) };
}

const defaultAgents = keepAliveAgents(512);

/** The request did not complete within `timeoutMs`. */
export class RequestTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'RequestTimeoutError';
  }
}

export interface RequestOptions {
  /** the whole request, response body included, must finish within this long */
  timeoutMs?: number;
  /** response bytes kept in `text`; the rest is read and discarded so the socket is reused (default: all) */
  maxBodyBytes?: number;
  /** default: shared keep-alive agents with up to 512 sockets per origin */
  agents?: KeepAliveAgents;
}

/** Request options per URL string: a poller asks for the same few URLs thousands of times an hour. */
const targets = new Map<string, NodeRequestOptions>();
const MAX_TARGETS = 10_000;

/** Whether `url` parses as an http(s) URL; cached with the request options it yields. */
export function isHttpUrl(url: string): boolean {
  try {
    const { protocol } = targetOf(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

function targetOf(url: URL | string): NodeRequestOptions {
  if (typeof url !== 'string') return urlToHttpOptions(url);
  let t = targets.get(url);
  if (!t) {
    if (targets.size >= MAX_TARGETS) targets.clear();
    t = urlToHttpOptions(new URL(url));
    targets.set(url, t);
  }
  return t;
}

/**
 * Requests in flight per caller signal. One abort listener per signal instead of one per request:
 * a source's signal lives as long as the source and sees thousands of requests.
 */
const inflight = new WeakMap<AbortSignal, Set<ClientRequest>>();

/** Registers `req` to be destroyed when `signal` aborts; returns the set to remove it from once it settles. */
function abortWith(signal: AbortSignal, req: ClientRequest): Set<ClientRequest> {
  let reqs = inflight.get(signal);
  if (!reqs) {
    const set = (reqs = new Set());
    inflight.set(signal, set);
    signal.addEventListener(
      'abort',
      () => {
        for (const r of set) r.destroy(new Error('aborted', { cause: signal.reason }));
        set.clear();
      },
      { once: true },
    );
  }
  reqs.add(req);
  return reqs;
}

/**
 * One HTTP request; rejects on network errors, when `signal` aborts and after `opts.timeoutMs`
 * (headers or body phase). The timeout is a plain timer rather than a per-request AbortSignal:
 * cheaper, and it leaves nothing attached to a long-lived caller signal.
 */
export function sendRequest(
  url: URL | string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal | undefined,
  opts: RequestOptions = {},
): Promise<HttpResponse> {
  const keep = opts.maxBodyBytes ?? Infinity;
  const agents = opts.agents ?? defaultAgents;
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let abortable: Set<ClientRequest> | undefined;
    const fail = (err: Error) => {
      clearTimeout(timer);
      abortable?.delete(req);
      reject(err);
    };
    if (signal?.aborted) {
      reject(new Error('aborted', { cause: signal.reason }));
      return;
    }
    const target = targetOf(url);
    const isHttps = target.protocol === 'https:';
    const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
    if (payload) headers['content-length'] = String(payload.length);
    const req = (isHttps ? httpsRequest : httpRequest)({ ...target, method, headers, agent: isHttps ? agents.https : agents.http }, (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (c: Buffer) => {
        if (kept < keep) {
          chunks.push(c);
          kept += c.length;
        }
      });
      res.on('end', () => {
        clearTimeout(timer);
        abortable?.delete(req);
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          headers: res.headers,
          text: chunks.length === 0 ? '' : chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'),
        });
      });
      res.on('error', fail);
    });
    req.on('error', fail);
    if (signal) abortable = abortWith(signal, req);
    if (opts.timeoutMs !== undefined) {
      const ms = opts.timeoutMs;
      timer = setTimeout(() => req.destroy(new RequestTimeoutError(ms)), ms);
    }
    req.end(payload);
  });
}

/** Text for a failed request: the code when the message lacks it, and the parts of an AggregateError (both address families refused). */
export function requestErrorText(err: unknown): string {
  const e = err as { message?: string; code?: string; errors?: Array<{ message?: string }> };
  let msg = e?.message || (Array.isArray(e?.errors) ? e.errors.map((x) => x?.message).filter(Boolean).join('; ') : '') || String(err);
  if (e?.code && !msg.includes(e.code)) msg = `${msg} (${e.code})`;
  return msg;
}

/** Header value as one string (the first of repeated headers). */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | null {
  const v = headers[name];
  return v === undefined ? null : Array.isArray(v) ? (v[0] ?? null) : v;
}
