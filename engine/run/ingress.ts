// Ingress HTTP server: POST /webhook/<source-id> (or a source's configured path),
// POST /callback/<actor-id>, GET /healthz. Bad input of any kind gets its own 4xx and a log
// entry; a store that cannot be written gets 503 so the sender retries. Nothing here throws
// into Node: every request ends with an answer.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LogEntry, WebhookRequest } from '../../providers/types.js';
import type { Graph } from './graph.js';
import type { Accepted, Intake } from './intake.js';
import { decodePathSegment, jsonTooDeep, MAX_JSON_DEPTH } from './json-limits.js';

/** bodies of requests we reject before reading (unknown path) or callbacks are capped lower */
const CALLBACK_MAX_BODY = 1024 * 1024;
/** past this, stop draining a rejected body and close the connection */
const DRAIN_LIMIT = 64 * 1024 * 1024;

export interface IngressDeps {
  graph(): Graph;
  intake: Intake;
  log(e: LogEntry): void;
  /** POST /callback/<actor-id>: emits actor.stopped; returns the accepted event or an error */
  callback(actorId: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /** true while the executor is shutting down: answer 503 */
  draining(): boolean;
  /** other endpoints (metrics, readiness, console): true when it takes the request and will answer it */
  routes?(req: http.IncomingMessage, res: http.ServerResponse, path: string): boolean;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads the body up to `max` bytes; past that, rejects with 413 and discards the rest unbuffered. */
function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      reject(new HttpError(413, `body of ${declared} bytes exceeds the limit of ${max} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > max) {
        over = true;
        chunks.length = 0;
        reject(new HttpError(413, `body exceeds the limit of ${max} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!over) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (!over) reject(new HttpError(400, `could not read the request body: ${err.message}`));
    });
  });
}

function headersOf(req: http.IncomingMessage): Record<string, string | undefined> {
  // node joins repeated headers into one string, except set-cookie: copy only when it is there
  if (req.headers['set-cookie'] === undefined) return req.headers as Record<string, string | undefined>;
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function send(res: http.ServerResponse, status: number, body: unknown, close = false): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(text);
}

export class Ingress {
  private server: http.Server;

  constructor(private readonly d: IngressDeps) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err) => this.fail(req, res, err));
    });
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 66_000;
    // Node's default 300 s request timeout would cut slow large uploads; headersTimeout guards slowloris.
    this.server.requestTimeout = 0;
    this.server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      else socket.destroy();
    });
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stop accepting connections; idle keep-alive sockets are closed, in-flight requests finish. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      setTimeout(() => {
        this.server.closeAllConnections();
        resolve();
      }, 3000).unref();
    });
  }

  private reject(req: http.IncomingMessage, res: http.ServerResponse, status: number, message: string, source?: string): void {
    this.d.log({
      time: new Date().toISOString(),
      phase: 'ingress.reject',
      level: status >= 500 ? 'error' : 'warn',
      source,
      message: `${req.method} ${req.url} -> ${status}: ${message}`,
      data: { status, remote: req.socket.remoteAddress },
    });
    const bodyUnread = !req.complete;
    // No `connection: close` here: closing while the client is still sending makes it fail with
    // EPIPE before it reads our answer. The rest of the body is read and discarded instead.
    send(res, status, { error: message });
    if (bodyUnread) {
      // Discard what the client is still sending (no buffering) so it can read our answer;
      // give up on absurd uploads.
      let drained = 0;
      req.on('data', (c: Buffer) => {
        drained += c.length;
        if (drained > DRAIN_LIMIT) req.socket.destroy();
      });
      req.resume();
    }
  }

  private fail(req: http.IncomingMessage, res: http.ServerResponse, err: unknown): void {
    if (err instanceof HttpError) return this.reject(req, res, err.status, err.message);
    this.reject(req, res, 500, `internal error: ${(err as Error)?.message ?? String(err)}`);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let path = q === -1 ? url : url.slice(0, q);
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    if (decodePathSegment(path) === null) return this.reject(req, res, 400, 'malformed percent-encoding in the request path');

    if (path === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return this.reject(req, res, 405, 'use GET /healthz');
      const g = this.d.graph();
      return send(res, this.d.draining() ? 503 : 200, { ok: !this.d.draining(), serial: g.serial, project: g.project.name });
    }

    if (this.d.routes?.(req, res, path)) return;

    if (path.startsWith('/callback/')) {
      if (req.method !== 'POST') return this.reject(req, res, 405, 'use POST');
      const actorId = decodePathSegment(path.slice('/callback/'.length))!;
      if (!this.d.graph().actors.has(actorId)) return this.reject(req, res, 404, `unknown actor "${actorId}"`);
      const raw = await readBody(req, CALLBACK_MAX_BODY);
      if (jsonTooDeep(raw)) return this.reject(req, res, 400, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
      let body: unknown = {};
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch (err) {
          return this.reject(req, res, 400, `invalid JSON: ${(err as Error).message}`);
        }
      }
      if (this.d.draining()) return this.reject(req, res, 503, 'executor is shutting down; retry');
      let r;
      try {
        r = await this.d.callback(actorId, body);
      } catch (err) {
        return this.reject(req, res, 503, `could not record the callback: ${(err as Error).message}`);
      }
      if (r.status >= 400) return this.reject(req, res, r.status, String(r.body.error ?? 'rejected'));
      return send(res, r.status, r.body);
    }

    const graph = this.d.graph();
    const src = graph.sourcesByPath.get(path);
    if (!src) {
      const id = path.startsWith('/webhook/') ? path.slice('/webhook/'.length) : null;
      if (id && graph.sources.has(id)) return this.reject(req, res, 404, `source "${id}" does not accept webhooks`, id);
      return this.reject(req, res, 404, id ? `unknown source "${decodePathSegment(id)}"` : `no such endpoint ${path}`);
    }
    if (req.method !== 'POST') return this.reject(req, res, 405, 'use POST', src.id);

    let rawBody: Buffer;
    try {
      rawBody = await readBody(req, src.maxBodyBytes);
    } catch (err) {
      if (err instanceof HttpError) return this.reject(req, res, err.status, err.message, src.id);
      throw err;
    }
    // Rejected before any provider parses it: nothing downstream has to survive deep nesting.
    if (jsonTooDeep(rawBody)) return this.reject(req, res, 400, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`, src.id);
    const wreq: WebhookRequest = { method: req.method, path, headers: headersOf(req), rawBody };
    let result;
    try {
      result = await src.provider.handleWebhook!(src.ctx, wreq);
    } catch (err) {
      return this.reject(req, res, 400, `source ${src.id} could not handle the request: ${(err as Error).message}`, src.id);
    }
    if (!result.ok) return this.reject(req, res, result.status, result.error, src.id);
    if (this.d.draining()) return this.reject(req, res, 503, 'executor is shutting down; retry', src.id);

    const tp = req.headers.traceparent;
    const traceparent = typeof tp === 'string' ? tp : undefined;
    const prepared = result.events.map((e) => this.d.intake.prepare(graph, src.id, e, traceparent));
    let accepted: Accepted[];
    try {
      accepted = await this.d.intake.submit(prepared);
    } catch (err) {
      // Not acknowledged, so the sender retries: nothing is lost.
      return this.reject(req, res, 503, `could not store the event: ${(err as Error).message}`, src.id);
    }
    if (accepted.length === 1) {
      const a = accepted[0]!;
      return send(res, a.duplicate ? 200 : 202, a);
    }
    const allDup = accepted.length > 0 && accepted.every((a) => a.duplicate);
    send(res, allDup ? 200 : 202, { events: accepted, deliveries: accepted.reduce((n, a) => n + a.deliveries, 0) });
  }
}
