// Ingress HTTP server: POST /webhook/<source-id> (or a source's configured path),
// POST /callback/<actor-id>, GET /healthz. Bad input of any kind gets its own 4xx and a log
// entry; a store that cannot be written gets 503 so the sender retries. Nothing here throws
// into Node: every request ends with an answer.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LogEntry, WebhookRequest } from '../../providers/types.js';
import type { Graph, RuntimeSource } from './graph.js';
import type { Accepted, Intake } from './intake.js';
import { decodePathSegment, jsonTooDeep, MAX_JSON_DEPTH } from './json-limits.js';
import { bearerToken, checkStateChange, fromBrowser, type AllowedHosts } from './guard.js';
import { applyTimeouts, BodyBudget, ConnectionCap, DEFAULT_LIMITS, INGEST_COST, type IngressLimits } from './connection-limits.js';
import { maskHeaders } from '../secrets/index.js';

/** bodies of requests we reject before reading (unknown path) or callbacks are capped lower */
const CALLBACK_MAX_BODY = 1024 * 1024;
/** past this, stop draining a rejected body and close the connection */
const DRAIN_LIMIT = 64 * 1024 * 1024;

export interface IngressDeps {
  graph(): Graph;
  intake: Intake;
  log(e: LogEntry): void;
  /**
   * POST /callback/<actor-id>: emits actor.stopped; returns the accepted event or an error.
   * `token` is the bearer token the request carried (checked against the delivery it names).
   */
  callback(actorId: string, body: unknown, token: string | undefined): Promise<{ status: number; body: Record<string, unknown> }>;
  /** names a Host header may carry on state-changing endpoints other than webhooks */
  allowedHosts(): AllowedHosts;
  /** true while the executor is shutting down: answer 503 */
  draining(): boolean;
  /** other endpoints (metrics, readiness, console): true when it takes the request and will answer it */
  routes?(req: http.IncomingMessage, res: http.ServerResponse, path: string): boolean;
  /** timeouts, connection cap and body budget (defaults: DEFAULT_LIMITS) */
  limits?: Partial<IngressLimits>;
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
    // With a declared length the body is copied into one buffer as it arrives: the chunks die
    // young, instead of all of them living until a concat doubles the body (5 MB bodies from
    // four senders at once cost ~60 MB more that way).
    const into = Number.isFinite(declared) && declared > 0 ? Buffer.allocUnsafe(declared) : null;
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      if (size + c.length > max || (into && size + c.length > into.length)) {
        over = true;
        chunks.length = 0;
        reject(new HttpError(413, `body exceeds the limit of ${max} bytes`));
        return;
      }
      if (into) c.copy(into, size);
      else chunks.push(c);
      size += c.length;
    });
    req.on('end', () => {
      if (over) return;
      if (into) resolve(size === into.length ? into : into.subarray(0, size));
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (!over) reject(new HttpError(400, `could not read the request body: ${err.message}`));
    });
  });
}

/** Bodies from this size up yield to other requests between their synchronous stages. */
const YIELD_BYTES = 1024 * 1024;
const EMPTY = Buffer.alloc(0);
const turn = () => new Promise<void>((r) => setImmediate(r));

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
  private readonly cap: ConnectionCap;
  private readonly budget: BodyBudget;
  private readonly ingestBudget: BodyBudget;

  constructor(private readonly d: IngressDeps) {
    const limits = { ...DEFAULT_LIMITS, ...d.limits };
    this.server = http.createServer({ connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs / 2) }, (req, res) => {
      this.handle(req, res).catch((err) => this.fail(req, res, err));
    });
    applyTimeouts(this.server, limits);
    this.cap = new ConnectionCap(limits.maxConnections);
    this.cap.attach(this.server);
    this.budget = new BodyBudget(limits.bodyBudgetBytes);
    this.ingestBudget = new BodyBudget(limits.ingestBudgetBytes);
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`);
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

  /** A caller on this machine, not relayed by a local proxy or tunnel, naming a local Host. */
  private isLocal(req: http.IncomingMessage): boolean {
    const remote = req.socket.remoteAddress ?? '';
    if (!(remote === '::1' || remote.startsWith('127.') || remote.startsWith('::ffff:127.'))) return false;
    const h = req.headers;
    if (h['x-forwarded-for'] || h.forwarded || h['x-real-ip'] || h['cf-connecting-ip'] || fromBrowser(req)) return false;
    return this.d.allowedHosts().isLocalName(h.host);
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
      const ok = !this.d.draining();
      // Anyone who can reach the port learns only whether it is up; the version and project
      // are for callers on this machine (not through a local proxy or tunnel).
      if (!this.isLocal(req)) return send(res, ok ? 200 : 503, { ok });
      const g = this.d.graph();
      return send(res, ok ? 200 : 503, { ok, serial: g.serial, project: g.project.name });
    }

    if (this.d.routes?.(req, res, path)) return;

    if (path.startsWith('/callback/')) {
      if (req.method !== 'POST') return this.reject(req, res, 405, 'use POST');
      const guard = checkStateChange(req, this.d.allowedHosts());
      if (!guard.ok) return this.reject(req, res, guard.status, guard.error);
      const actorId = decodePathSegment(path.slice('/callback/'.length))!;
      if (!this.d.graph().actors.has(actorId)) return this.reject(req, res, 404, `unknown actor "${actorId}"`);
      const raw = await readBody(req, CALLBACK_MAX_BODY);
      this.answering(req, res);
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
        r = await this.d.callback(actorId, body, bearerToken(req));
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
    // Webhook senders are servers. A web page must not be able to post events through a
    // visitor's browser (CSRF against an unsigned source on localhost).
    const browser = fromBrowser(req);
    if (browser) return this.reject(req, res, 403, `requests from web pages are refused (${browser})`, src.id);

    // The body waits for room in the byte budget before it is read: the sender is held back by
    // TCP instead of the executor holding every large body in memory at once.
    const max = src.maxBodyBytes;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) return this.reject(req, res, 413, `body of ${declared} bytes exceeds the limit of ${max} bytes`, src.id);
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    let release: () => void;
    try {
      release = await this.budget.acquire(Number.isFinite(declared) ? declared : max, gone.signal);
    } catch {
      return; // the client went away while waiting
    }
    try {
      await this.ingest(req, res, src, path, max);
    } finally {
      release();
    }
  }

  /** A request is read in full and being answered: the connection cap never sheds it. */
  private answering(req: http.IncomingMessage, res: http.ServerResponse): void {
    const done = this.cap.busy(req.socket);
    res.once('close', done);
  }

  private async ingest(req: http.IncomingMessage, res: http.ServerResponse, src: RuntimeSource, path: string, max: number): Promise<void> {
    let rawBody: Buffer;
    try {
      rawBody = await readBody(req, max);
    } catch (err) {
      if (err instanceof HttpError) return this.reject(req, res, err.status, err.message, src.id);
      throw err;
    }
    this.answering(req, res);
    // Parsing and storing cost several times the body (INGEST_COST): wait for room before
    // starting, so concurrent large bodies are worked on one after another, not all at once.
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    let release: () => void;
    try {
      release = await this.ingestBudget.acquire(rawBody.length * INGEST_COST, gone.signal);
    } catch {
      return; // the client went away while waiting
    }
    // handed over, not kept: an await keeps a function's locals alive, and this frame waits for
    // the whole store (5 MB more per large body at the peak of storing it)
    const body = { raw: rawBody };
    rawBody = EMPTY;
    try {
      await this.store(req, res, src, path, body);
    } finally {
      release();
    }
  }

  private async store(req: http.IncomingMessage, res: http.ServerResponse, src: RuntimeSource, path: string, body: { raw: Buffer }): Promise<void> {
    const graph = this.d.graph();
    // Rejected before any provider parses it: nothing downstream has to survive deep nesting.
    if (jsonTooDeep(body.raw)) return this.reject(req, res, 400, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`, src.id);
    // Each stage below is synchronous work proportional to the body (scan, parse, serialize):
    // between the stages of a large body, other requests (/healthz) get a turn (hole 11).
    const large = body.raw.length >= YIELD_BYTES;
    if (large) await turn();
    let wreq: WebhookRequest | null = { method: req.method!, path, headers: headersOf(req), rawBody: body.raw, target: req.url ?? path };
    body.raw = EMPTY;
    let result;
    try {
      result = await src.provider.handleWebhook!(src.ctx, wreq);
      // parsed: the raw bytes are not needed while the event is serialized and stored
      wreq = null;
    } catch (err) {
      return this.reject(req, res, 400, `source ${src.id} could not handle the request: ${(err as Error).message}`, src.id);
    }
    if (!result.ok) return this.reject(req, res, result.status, result.error, src.id);
    if (this.d.draining()) return this.reject(req, res, 503, 'executor is shutting down; retry', src.id);

    const tp = req.headers.traceparent;
    const traceparent = typeof tp === 'string' ? tp : undefined;
    if (large) await turn();
    // the request's headers, masked, go with each event it carried (the console's trace shows them)
    const headers = JSON.stringify(maskHeaders(headersOf(req)));
    const prepared = result.events.map((e) => this.d.intake.prepare(graph, src.id, e, traceparent, headers));
    if (large) await turn();
    let accepted: Accepted[];
    try {
      accepted = await this.d.intake.submit(prepared);
    } catch (err) {
      // Not acknowledged, so the sender retries: nothing is lost.
      return this.reject(req, res, 503, `could not store the event: ${(err as Error).message}`, src.id);
    }
    // `ok: true` as OrgLoop's receivers answer, for senders written against them
    if (accepted.length === 1) {
      const a = accepted[0]!;
      return send(res, a.duplicate ? 200 : 202, { ok: true, ...a });
    }
    const allDup = accepted.length > 0 && accepted.every((a) => a.duplicate);
    send(res, allDup ? 200 : 202, { ok: true, events: accepted, deliveries: accepted.reduce((n, a) => n + a.deliveries, 0) });
  }
}
