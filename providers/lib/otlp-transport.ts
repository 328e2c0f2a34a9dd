// The three OTLP transports (OpenTelemetry protocol spec, "OTLP/HTTP" and "OTLP/gRPC"):
//   http/json      POST <url>, Content-Type: application/json (otlp-json.ts)
//   http/protobuf  POST <url>, Content-Type: application/x-protobuf (otlp-proto.ts)
//   grpc           the LogsService / TraceService Export call at the endpoint's origin (grpc-unary.ts)
// Each answers one request with an Outcome: sent, or why not and whether to try again. What is
// retryable is the spec's: HTTP 429, 502, 503, 504 and no connection; gRPC CANCELLED,
// DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS, and RESOURCE_EXHAUSTED
// when the server says when to come back (RetryInfo). `compression: gzip` compresses bodies
// (Content-Encoding / grpc-encoding).

import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { GrpcChannel, GRPC } from './grpc-unary.js';
import { logsRequest, tracesRequest, type Resource } from './otlp-json.js';
import { logsRequestProto, partialSuccessProto, tracesRequestProto } from './otlp-proto.js';

const gzip = promisify(gzipCb);

export type OtlpProtocol = 'http/json' | 'http/protobuf' | 'grpc';
export type OtlpSignal = 'logs' | 'traces';

export interface Outcome {
  ok: boolean;
  retryable: boolean;
  retryAfterMs?: number;
  /** why it failed, or '' */
  problem: string;
  /** records or spans the receiver said it rejected (partial success) */
  rejected: number;
}

export interface OtlpTransport {
  encode(items: Array<Record<string, unknown>>): Buffer | string;
  post(body: Buffer | string, timeoutMs: number): Promise<Outcome>;
  close(): Promise<void>;
}

const HTTP_RETRYABLE = new Set([429, 502, 503, 504]);
const GRPC_RETRYABLE = new Set([1, 4, 10, 11, 14, 15]);
const GRPC_NAMES: Record<number, string> = {
  1: 'CANCELLED', 2: 'UNKNOWN', 3: 'INVALID_ARGUMENT', 4: 'DEADLINE_EXCEEDED', 5: 'NOT_FOUND', 6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED', 8: 'RESOURCE_EXHAUSTED', 9: 'FAILED_PRECONDITION', 10: 'ABORTED', 11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED', 13: 'INTERNAL', 14: 'UNAVAILABLE', 15: 'DATA_LOSS', 16: 'UNAUTHENTICATED',
};
export const GRPC_PATHS: Record<OtlpSignal, string> = {
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
};

/** rejectedLogRecords / rejectedSpans of an OTLP/HTTP JSON partial success answer, or 0. */
function partialJson(text: string): number {
  if (!text) return 0;
  try {
    const p = (JSON.parse(text) as { partialSuccess?: Record<string, unknown> }).partialSuccess;
    return Number(p?.rejectedLogRecords ?? p?.rejectedSpans ?? 0) || 0;
  } catch {
    return 0;
  }
}

function retryAfter(v: string | null): number | undefined {
  if (!v) return undefined;
  return /^\d+$/.test(v.trim()) ? Number(v) * 1000 : Math.max(0, Date.parse(v) - Date.now()) || undefined;
}

export interface TransportOptions {
  protocol: OtlpProtocol;
  signal: OtlpSignal;
  /** http: the signal URL; grpc: the origin (http://host:port or https://host:port) */
  url: string;
  headers: Record<string, string>;
  resource: Resource;
  gzip: boolean;
}

export function otlpTransport(o: TransportOptions): OtlpTransport {
  if (o.protocol === 'grpc') return grpcTransport(o);
  const json = o.protocol === 'http/json';
  const encode = json
    ? (items: Array<Record<string, unknown>>) => (o.signal === 'logs' ? logsRequest : tracesRequest)(o.resource, items)
    : (items: Array<Record<string, unknown>>) => (o.signal === 'logs' ? logsRequestProto : tracesRequestProto)(o.resource, items);
  const contentType = json ? 'application/json' : 'application/x-protobuf';
  return {
    encode,
    async post(body, timeoutMs) {
      try {
        const payload = o.gzip ? await gzip(body) : body;
        const res = await fetch(o.url, {
          method: 'POST',
          headers: { ...o.headers, 'content-type': contentType, ...(o.gzip ? { 'content-encoding': 'gzip' } : {}) },
          body: payload,
          signal: AbortSignal.timeout(Math.max(1, timeoutMs)),
        });
        const answer = Buffer.from(await res.arrayBuffer().catch(() => new ArrayBuffer(0)));
        if (res.ok) {
          const rejected = (res.headers.get('content-type') ?? '').includes('protobuf') ? partialSuccessProto(answer).rejected : partialJson(answer.toString('utf8'));
          return { ok: true, retryable: false, problem: '', rejected };
        }
        return { ok: false, retryable: HTTP_RETRYABLE.has(res.status), retryAfterMs: retryAfter(res.headers.get('retry-after')), problem: `HTTP ${res.status}`, rejected: 0 };
      } catch (err) {
        const problem = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `could not connect (${(err as Error).message})`;
        return { ok: false, retryable: true, problem, rejected: 0 };
      }
    },
    close: async () => {},
  };
}

function grpcTransport(o: TransportOptions): OtlpTransport {
  const channel = new GrpcChannel(o.url);
  // HTTP/2 header names are lowercase; metadata is sent as given otherwise
  const headers = Object.fromEntries(Object.entries(o.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const path = GRPC_PATHS[o.signal];
  return {
    encode: (items) => (o.signal === 'logs' ? logsRequestProto : tracesRequestProto)(o.resource, items),
    async post(body, timeoutMs) {
      const message = typeof body === 'string' ? Buffer.from(body) : body;
      const a = await channel.call(path, o.gzip ? await gzip(message) : message, { headers, timeoutMs, gzip: o.gzip });
      if (a.code === GRPC.OK) return { ok: true, retryable: false, problem: '', rejected: a.body ? partialSuccessProto(a.body).rejected : 0 };
      const retryable = GRPC_RETRYABLE.has(a.code) || (a.code === GRPC.RESOURCE_EXHAUSTED && a.retryDelayMs !== undefined);
      const text = a.message.length > 200 ? `${a.message.slice(0, 200)}...` : a.message;
      return { ok: false, retryable, retryAfterMs: a.retryDelayMs, problem: `gRPC ${GRPC_NAMES[a.code] ?? a.code}${text ? ` (${text})` : ''}`, rejected: 0 };
    },
    close: () => channel.close(),
  };
}
