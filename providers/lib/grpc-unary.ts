// Unary gRPC calls over node:http2 (the gRPC over HTTP/2 protocol: a POST to /<service>/<method>,
// `content-type: application/grpc`, `te: trailers`, the message as one length-prefixed frame,
// the outcome in the `grpc-status` / `grpc-message` trailers). Enough for OTLP's Export calls,
// without a gRPC library.
//
// One HTTP/2 connection per channel, opened on first use and again after it closes or the server
// sends GOAWAY. The connection does not keep the process alive between calls.

import http2 from 'node:http2';
import { promisify } from 'node:util';
import { gunzip as gunzipCb } from 'node:zlib';
import { readFields } from './otlp-proto.js';

const gunzip = promisify(gunzipCb);

/** gRPC status codes used by name here */
export const GRPC = { OK: 0, CANCELLED: 1, UNKNOWN: 2, DEADLINE_EXCEEDED: 4, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const;

export interface GrpcAnswer {
  code: number;
  message: string;
  /** the response message (decompressed), when the call succeeded */
  body: Buffer | null;
  /** google.rpc.RetryInfo's retry_delay from grpc-status-details-bin, when the server sent one */
  retryDelayMs?: number;
}

/** HTTP statuses that are not gRPC answers mapped as gRPC's spec says (http-grpc-status-mapping.md). */
function codeOfHttp(status: number): number {
  if (status === 401) return GRPC.UNAUTHENTICATED;
  if (status === 403) return GRPC.PERMISSION_DENIED;
  if (status === 404) return GRPC.UNIMPLEMENTED;
  if (status === 400) return GRPC.INTERNAL;
  if ([429, 502, 503, 504].includes(status)) return GRPC.UNAVAILABLE;
  return GRPC.UNKNOWN;
}

/** grpc-message is percent-encoded UTF-8. */
function grpcMessage(v: unknown): string {
  if (typeof v !== 'string') return '';
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/** retry_delay of a google.rpc.RetryInfo among a google.rpc.Status's details (3: repeated Any {1 type_url, 2 value}). */
function retryDelayOf(detailsBin: unknown): number | undefined {
  if (typeof detailsBin !== 'string' || !detailsBin) return undefined;
  try {
    for (const d of readFields(Buffer.from(detailsBin, 'base64'))) {
      if (d.field !== 3 || !Buffer.isBuffer(d.value)) continue;
      const any = readFields(d.value);
      const type = any.find((f) => f.field === 1)?.value;
      const value = any.find((f) => f.field === 2)?.value;
      if (!Buffer.isBuffer(type) || !type.toString().endsWith('google.rpc.RetryInfo') || !Buffer.isBuffer(value)) continue;
      const delay = readFields(value).find((f) => f.field === 1)?.value; // RetryInfo.retry_delay: Duration
      if (!Buffer.isBuffer(delay)) return 0;
      let ms = 0;
      for (const f of readFields(delay)) {
        if (f.field === 1 && typeof f.value === 'bigint') ms += Number(f.value) * 1000;
        if (f.field === 2 && typeof f.value === 'bigint') ms += Number(f.value) / 1e6;
      }
      return Math.max(0, Math.round(ms));
    }
  } catch {
    // undecodable details: as if none were sent
  }
  return undefined;
}

/** The first message of a gRPC response body: 1 byte compressed flag, 4 bytes length, the message. */
async function firstMessage(body: Buffer, encoding: unknown): Promise<Buffer | null> {
  if (body.length < 5) return null;
  const len = body.readUInt32BE(1);
  const msg = body.subarray(5, 5 + len);
  if (body[0] === 1) return encoding === 'gzip' ? gunzip(msg) : null;
  return msg;
}

export interface CallOptions {
  /** metadata: lowercased names, string values */
  headers: Record<string, string>;
  timeoutMs: number;
  /** the message is gzip-compressed already: mark the frame and say so */
  gzip?: boolean;
}

export class GrpcChannel {
  private session: http2.ClientHttp2Session | null = null;
  private active = 0;

  /** `origin`: http://host:port (plaintext, HTTP/2 with prior knowledge) or https://host:port (TLS, ALPN h2) */
  constructor(private readonly origin: string) {}

  private open(): http2.ClientHttp2Session {
    const live = this.session;
    if (live && !live.closed && !live.destroyed) return live;
    const s = http2.connect(this.origin);
    const forget = () => {
      if (this.session === s) this.session = null;
    };
    s.on('error', forget); // the calls on it see their own stream errors
    s.on('goaway', forget);
    s.on('close', forget);
    this.session = s;
    return s;
  }

  /** One unary call; never rejects: failures are answers with a gRPC code (UNAVAILABLE when unreachable). */
  call(path: string, message: Buffer, opts: CallOptions): Promise<GrpcAnswer> {
    return new Promise((resolve) => {
      const frame = Buffer.alloc(5 + message.length);
      frame[0] = opts.gzip ? 1 : 0;
      frame.writeUInt32BE(message.length, 1);
      message.copy(frame, 5);

      let session: http2.ClientHttp2Session;
      let req: http2.ClientHttp2Stream;
      try {
        session = this.open();
        req = session.request({
          ...opts.headers,
          ':method': 'POST',
          ':path': path,
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-timeout': `${Math.min(99_999_999, Math.max(1, Math.ceil(opts.timeoutMs)))}m`,
          'grpc-accept-encoding': 'identity,gzip',
          ...(opts.gzip ? { 'grpc-encoding': 'gzip' } : {}),
        });
      } catch (err) {
        if (this.active === 0) this.session?.unref();
        // e.g. a header HTTP/2 forbids: nothing was sent, and sending again would not help
        return resolve({ code: GRPC.INTERNAL, message: (err as Error).message, body: null });
      }
      this.active++;
      session.ref();

      let done = false;
      let status = 0;
      let head: http2.IncomingHttpHeaders = {};
      let trailers: http2.IncomingHttpHeaders | null = null;
      const chunks: Buffer[] = [];
      const finish = (a: GrpcAnswer) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (--this.active === 0 && !session.destroyed) session.unref();
        resolve(a);
      };
      const timer = setTimeout(() => {
        req.close(http2.constants.NGHTTP2_CANCEL);
        finish({ code: GRPC.DEADLINE_EXCEEDED, message: `no answer within ${opts.timeoutMs} ms`, body: null });
      }, opts.timeoutMs);

      req.on('response', (h) => {
        head = h;
        status = Number(h[':status']);
      });
      req.on('trailers', (t) => (trailers = t));
      req.on('data', (c: Buffer) => chunks.push(c));
      // "the pending stream has been canceled" says less than its cause (refused, a certificate...)
      req.on('error', (err) => finish({ code: GRPC.UNAVAILABLE, message: ((err as Error & { cause?: Error }).cause ?? err).message, body: null }));
      req.on('close', () => {
        if (done) return;
        if (!status) return finish({ code: GRPC.UNAVAILABLE, message: `stream closed without an answer (HTTP/2 code ${req.rstCode})`, body: null });
        // trailers-only answers carry grpc-status in the headers
        const t = trailers ?? head;
        if (t['grpc-status'] === undefined) {
          const code = status === 200 ? GRPC.UNKNOWN : codeOfHttp(status);
          return finish({ code, message: `HTTP ${status} without grpc-status`, body: null });
        }
        const code = Number(t['grpc-status']);
        const answer: GrpcAnswer = { code, message: grpcMessage(t['grpc-message']), body: null, retryDelayMs: retryDelayOf(t['grpc-status-details-bin']) };
        if (code !== GRPC.OK) return finish(answer);
        firstMessage(Buffer.concat(chunks), head['grpc-encoding']).then(
          (body) => finish({ ...answer, body }),
          () => finish(answer),
        );
      });
      req.end(frame);
    });
  }

  close(): Promise<void> {
    const s = this.session;
    this.session = null;
    if (!s || s.closed || s.destroyed) return Promise.resolve();
    // an idle session is unref'd: closing it (a TLS close_notify) must still keep the process up
    s.ref();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        s.destroy();
        resolve();
      }, 2000);
      t.unref();
      s.close(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
