// What one client may cost the ingress server: time per request, open connections, and bytes of
// request bodies held at once. Slow clients used to hold connections forever (requestTimeout 0):
// 21,000 trickling connections exhausted file descriptors and took /healthz down, and 32 large
// bodies at once peaked at 1.6 GB. Now every phase of a request has a deadline, connections are
// capped (the oldest connection that is not being answered makes room for a new one, so a flood
// of slow clients cannot lock out a health check), and bodies wait for a byte budget before they
// are read (TCP backpressure holds the rest at the sender). A read body then waits for the
// ingest budget, which counts what parsing and storing it costs (INGEST_COST times its size),
// before it is parsed: concurrent senders of large bodies are served one after another instead
// of each holding its working copies at once (issue 17 hole 3).

import type http from 'node:http';
import type { Socket } from 'node:net';

export interface IngressLimits {
  /** the request line and headers must arrive within this (slowloris) */
  headersTimeoutMs: number;
  /** the whole request, body included, must arrive within this */
  requestTimeoutMs: number;
  /** a connection with no traffic for this long is closed (keep-alive idle included) */
  idleTimeoutMs: number;
  /** open connections at most; past it the oldest connection not being answered is closed */
  maxConnections: number;
  /** bytes of request bodies being read at once, over all requests */
  bodyBudgetBytes: number;
  /**
   * working memory for turning read bodies into stored events at once (a body costs about
   * INGEST_COST times its size while it is decoded, parsed, serialized and written)
   */
  ingestBudgetBytes: number;
}

/**
 * What one read body costs while it becomes a stored event, as a multiple of its size: the raw
 * buffer, its decoded text, the parsed value, the event's JSON and the copy handed to the store
 * (a 5 MB body measured ~25 MB). Four senders of 5 MB bodies took the executor from 249 to 312 MB
 * when only raw bytes were counted.
 */
export const INGEST_COST = 5;

export const DEFAULT_LIMITS: IngressLimits = {
  headersTimeoutMs: 10_000,
  // 25 MB (GitHub's largest delivery) in 60 s needs about 3.5 Mbit/s
  requestTimeoutMs: 60_000,
  idleTimeoutMs: 65_000,
  maxConnections: 1024,
  bodyBudgetBytes: 64 * 1024 * 1024,
  // one 5 MB body (25 MB of work) at a time; a larger one goes alone; small webhooks by hundreds
  ingestBudgetBytes: 32 * 1024 * 1024,
};

/** Applies the deadlines to a server (Node checks them every `connectionsCheckingInterval`). */
export function applyTimeouts(server: http.Server, l: IngressLimits): void {
  server.headersTimeout = l.headersTimeoutMs;
  server.requestTimeout = l.requestTimeoutMs;
  // A keep-alive connection idles up to this between requests; longer than the 60 s load
  // balancers commonly keep theirs, so the balancer closes first and never reuses a closed one.
  server.keepAliveTimeout = l.idleTimeoutMs;
  server.timeout = l.idleTimeoutMs;
}

/**
 * Caps open connections. A connection is "answering" from the moment its request was read until
 * the answer is sent: those are never shed. Everything else (headers or body still trickling
 * in, keep-alive idle) may be closed, oldest first, to make room.
 */
export class ConnectionCap {
  private readonly open = new Set<Socket>();
  private readonly answering = new WeakSet<Socket>();
  shed = 0;

  constructor(private readonly max: number) {}

  attach(server: http.Server): void {
    server.on('connection', (sock: Socket) => {
      if (this.open.size >= this.max) this.makeRoom();
      this.open.add(sock);
      sock.once('close', () => this.open.delete(sock));
    });
  }

  /** The request on `sock` is complete and being answered: keep it until `done`. */
  busy(sock: Socket): () => void {
    this.answering.add(sock);
    return () => this.answering.delete(sock);
  }

  get size(): number {
    return this.open.size;
  }

  private makeRoom(): void {
    for (const s of this.open) {
      if (this.answering.has(s)) continue;
      this.open.delete(s);
      s.destroy();
      this.shed++;
      return;
    }
  }
}

/**
 * A byte budget for request bodies. A request reserves its declared size (or the source's limit
 * when the size is not declared) before its body is read, and returns it once the body is
 * stored or rejected. One body larger than the whole budget may still run, alone.
 */
export class BodyBudget {
  private used = 0;
  private readonly waiting: Array<{ bytes: number; go: () => void }> = [];

  constructor(private readonly total: number) {}

  /** Resolves with a release function once `bytes` fit; rejects when `signal` fires first. */
  acquire(bytes: number, signal: AbortSignal): Promise<() => void> {
    const want = Math.max(1, Math.min(bytes, this.total));
    return new Promise((resolve, reject) => {
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        this.used -= want;
        this.pump();
      };
      const go = () => {
        signal.removeEventListener('abort', onAbort);
        this.used += want;
        resolve(release);
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new Error('request closed while waiting for the body budget'));
      };
      const entry = { bytes: want, go };
      if (this.waiting.length === 0 && this.used + want <= this.total) return go();
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.used + this.waiting[0]!.bytes <= this.total) this.waiting.shift()!.go();
  }

  get inUse(): number {
    return this.used;
  }
}
