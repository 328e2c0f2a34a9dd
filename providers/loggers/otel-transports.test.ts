// The otel logger's protobuf transports against real receivers on 127.0.0.1: an HTTP server
// taking OTLP/HTTP protobuf and an HTTP/2 server speaking gRPC (LogsService / TraceService
// Export). Bodies are decoded here by a protobuf wire decoder written for this test (not the
// logger's reader) and walked with opentelemetry-proto's field numbers.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { otelLogger, type OtelSink } from './otel.js';
import { entry, makeCtx } from '../lib/test-helpers/context.js';
import { startServer } from '../lib/test-helpers/http.js';

type Wire = { wire: 0; v: bigint } | { wire: 1; b: Buffer } | { wire: 2; b: Buffer } | { wire: 5; b: Buffer };

/** field number -> occurrences, in order; throws on anything malformed */
function decode(buf: Buffer): Map<number, Wire[]> {
  const out = new Map<number, Wire[]>();
  let pos = 0;
  const uvarint = () => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('varint runs past the end');
      const byte = buf[pos++]!;
      result += BigInt(byte & 127) << shift;
      if ((byte & 128) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('varint too long');
    }
  };
  while (pos < buf.length) {
    const tag = uvarint();
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (field === 0) throw new Error('field number 0');
    let w: Wire;
    if (wire === 0) w = { wire: 0, v: uvarint() };
    else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (pos + n > buf.length) throw new Error('fixed field past the end');
      w = { wire, b: buf.subarray(pos, pos + n) };
      pos += n;
    } else if (wire === 2) {
      const n = Number(uvarint());
      if (pos + n > buf.length) throw new Error('length past the end');
      w = { wire: 2, b: buf.subarray(pos, pos + n) };
      pos += n;
    } else throw new Error(`wire type ${wire}`);
    out.set(field, [...(out.get(field) ?? []), w]);
  }
  return out;
}
const all = (m: Map<number, Wire[]>, f: number, wire: number): Wire[] => {
  const list = m.get(f) ?? [];
  for (const w of list) if (w.wire !== wire) throw new Error(`field ${f} has wire type ${w.wire}, expected ${wire}`);
  return list;
};
const one = (m: Map<number, Wire[]>, f: number, wire: number): Wire | undefined => {
  const list = all(m, f, wire);
  if (list.length > 1) throw new Error(`field ${f} repeated`);
  return list[0];
};
const msgs = (m: Map<number, Wire[]>, f: number) => all(m, f, 2).map((w) => decode((w as { b: Buffer }).b));
const str = (m: Map<number, Wire[]>, f: number) => {
  const w = one(m, f, 2);
  return w ? (w as { b: Buffer }).b.toString('utf8') : undefined;
};
const hex = (m: Map<number, Wire[]>, f: number) => {
  const w = one(m, f, 2);
  return w ? (w as { b: Buffer }).b.toString('hex') : undefined;
};
const varint = (m: Map<number, Wire[]>, f: number) => (one(m, f, 0) as { v: bigint } | undefined)?.v;
const fixed64 = (m: Map<number, Wire[]>, f: number) => (one(m, f, 1) as { b: Buffer } | undefined)?.b.readBigUInt64LE();

/** AnyValue: exactly one of 1 string, 2 bool, 3 int64, 4 double */
function anyValue(m: Map<number, Wire[]>): unknown {
  if (m.size !== 1) throw new Error(`AnyValue with ${m.size} fields`);
  if (m.has(1)) return str(m, 1);
  if (m.has(2)) return varint(m, 2) === 1n;
  if (m.has(3)) return BigInt.asIntN(64, varint(m, 3)!);
  if (m.has(4)) return (one(m, 4, 1) as { b: Buffer }).b.readDoubleLE();
  throw new Error(`AnyValue field ${[...m.keys()]}`);
}
function keyValues(list: Array<Map<number, Wire[]>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list) {
    const key = str(kv, 1)!;
    if (!key || key in out) throw new Error(`bad or duplicate key ${key}`);
    out[key] = anyValue(msgs(kv, 2)[0]!);
  }
  return out;
}

/** ExportLogsServiceRequest -> resource attributes, scope, records */
function decodeLogs(body: Buffer) {
  const req = decode(body);
  if ([...req.keys()].some((k) => k !== 1)) throw new Error('ExportLogsServiceRequest has only resource_logs (1)');
  const records: any[] = [];
  let resource: Record<string, unknown> = {};
  let scope: any = null;
  for (const rl of msgs(req, 1)) {
    resource = keyValues(msgs(msgs(rl, 1)[0]!, 1));
    for (const sl of msgs(rl, 2)) {
      const sc = msgs(sl, 1)[0]!;
      scope = { name: str(sc, 1), version: str(sc, 2) };
      for (const r of msgs(sl, 2)) {
        records.push({
          time: fixed64(r, 1),
          severityNumber: varint(r, 2),
          severityText: str(r, 3),
          body: anyValue(msgs(r, 5)[0]!),
          attrs: keyValues(msgs(r, 6)),
          traceId: hex(r, 9),
          spanId: hex(r, 10),
          observed: fixed64(r, 11),
        });
      }
    }
  }
  return { resource, scope, records };
}

function decodeSpans(body: Buffer) {
  const spans: any[] = [];
  for (const rs of msgs(decode(body), 1)) {
    for (const ss of msgs(rs, 2)) {
      for (const s of msgs(ss, 2)) {
        const st = msgs(s, 15)[0];
        spans.push({ traceId: hex(s, 1), spanId: hex(s, 2), name: str(s, 5), kind: varint(s, 6), start: fixed64(s, 7), end: fixed64(s, 8), attrs: keyValues(msgs(s, 9)), status: st ? { message: str(st, 2), code: varint(st, 3) ?? 0n } : null });
      }
    }
  }
  return spans;
}

/** ExportLogsServiceResponse with a partial success: 1 { 1 rejected (int64), 2 error_message } */
function partialSuccess(rejected: number, message: string): Buffer {
  const text = Buffer.from(message);
  const inner = Buffer.concat([Buffer.from([0x08, rejected]), Buffer.from([0x12, text.length]), text]);
  return Buffer.concat([Buffer.from([0x0a, inner.length]), inner]);
}

const until = async (what: string, fn: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const TOKEN = 'otlp-proto-token-8c2d4e6f';
const T0 = BigInt(Date.parse('2024-05-01T12:00:01.123Z')) * 1_000_000n;

interface GrpcCall {
  headers: http2.IncomingHttpHeaders;
  /** the request's message, decompressed */
  message: Buffer;
  compressed: boolean;
}
type GrpcReply = { status: number; message?: string; body?: Buffer } | 'hang';

/** An h2c gRPC server: each unary call is recorded and answered by `reply`. */
async function grpcServer(reply: (call: GrpcCall, n: number) => GrpcReply = () => ({ status: 0, body: Buffer.alloc(0) })) {
  const calls: GrpcCall[] = [];
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const raw = Buffer.concat(chunks);
      const flag = raw[0];
      const len = raw.readUInt32BE(1);
      if (raw.length !== 5 + len) throw new Error(`one gRPC frame expected: ${raw.length} bytes for a length of ${len}`);
      const payload = raw.subarray(5);
      const call = { headers, message: flag === 1 ? gunzipSync(payload) : payload, compressed: flag === 1 };
      calls.push(call);
      const r = reply(call, calls.length);
      if (r === 'hang') return;
      if (r.status !== 0) {
        // trailers-only: the status rides in the headers
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(r.status), 'grpc-message': encodeURIComponent(r.message ?? '') }, { endStream: true });
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      const body = r.body ?? Buffer.alloc(0);
      const frame = Buffer.alloc(5 + body.length);
      frame.writeUInt32BE(body.length, 1);
      body.copy(frame, 5);
      stream.end(frame);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('otel logger over OTLP/HTTP protobuf and OTLP/gRPC', () => {
  const closers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });
  const open = (config: Record<string, unknown>) => {
    const ctx = makeCtx(config);
    const sink = otelLogger.open(ctx) as OtelSink;
    closers.unshift(() => sink.close());
    return { ctx, sink };
  };

  it('http/protobuf: an ExportLogsServiceRequest with the resource, scope, records, typed attributes and ids; headers sent', async () => {
    const srv = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
    closers.push(() => srv.close());
    const { sink } = open({
      endpoint: srv.url,
      protocol: 'http/protobuf',
      service_name: 'orgloop-prod',
      service_version: '2.0.0',
      resource_attributes: { 'deployment.environment': 'production', 'host.cores': 2 },
      headers: { Authorization: `Bearer ${TOKEN}` },
      batch: { scheduled_delay_ms: 60_000 },
      level: 'debug',
    });
    sink.log(entry({ level: 'error', phase: 'deliver.dead', actor: 'agent', event_id: 'evt_1', trace_id: 'trc_7', delivery_id: 'dlv_1', message: 'dead: HTTP 410 — gone', data: { attempt: 5, ratio: 0.25, final: true, fatal: true, delta: -3, big: 2 ** 40 } }));
    sink.log(entry({ level: 'debug', phase: 'route.match', trace_id: 'trc_7', message: '' }));
    await sink.close();
    expect(srv.requests).toHaveLength(1);
    const req = srv.requests[0]!;
    expect([req.url, req.headers['content-type'], req.headers.authorization]).toEqual(['/v1/logs', 'application/x-protobuf', `Bearer ${TOKEN}`]);
    const got = decodeLogs(req.body);
    expect(got.resource).toEqual({ 'service.name': 'orgloop-prod', 'service.version': '2.0.0', 'deployment.environment': 'production', 'host.cores': 2n });
    expect(got.scope).toEqual({ name: 'orgloop', version: '1' });
    const [dead, match] = got.records;
    expect(dead).toMatchObject({ time: T0, severityNumber: 21n, severityText: 'FATAL' });
    expect(dead.observed).toBeGreaterThan(0n);
    expect(JSON.parse(dead.body)).toMatchObject({ phase: 'deliver.dead', message: 'dead: HTTP 410 — gone' });
    expect(dead.attrs).toEqual({
      'orgloop.phase': 'deliver.dead',
      'orgloop.event_id': 'evt_1',
      'orgloop.trace_id': 'trc_7',
      'orgloop.source': 'github',
      'orgloop.route': 'pr-review',
      'orgloop.target': 'agent',
      'orgloop.delivery_id': 'dlv_1',
      'orgloop.attempt': 5n,
      'orgloop.ratio': 0.25,
      'orgloop.final': true,
      'orgloop.delta': -3n,
      'orgloop.big': 2n ** 40n,
    });
    expect(dead.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(dead.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(match).toMatchObject({ severityNumber: 5n, severityText: 'DEBUG', traceId: dead.traceId, spanId: undefined });
  });

  it('http/protobuf with gzip and traces: Content-Encoding gzip, spans at /v1/traces; a partial success answer is warned about', async () => {
    const srv = await startServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end(req.url === '/v1/logs' ? partialSuccess(1, 'one too old') : undefined);
    });
    closers.push(() => srv.close());
    const { ctx, sink } = open({ endpoint: `${srv.url}/v1/logs`, protocol: 'http/protobuf', compression: 'gzip', export: { traces: true }, batch: { scheduled_delay_ms: 60_000 } });
    sink.log(entry({ phase: 'deliver.success', actor: 'agent', trace_id: 'trc_2', delivery_id: 'dlv_2', data: { attempt: 1, duration_ms: 250 }, message: 'delivered' }));
    sink.log(entry({ phase: 'deliver.retry', level: 'warn', actor: 'agent', trace_id: 'trc_2', delivery_id: 'dlv_3', data: { attempt: 1 }, message: 'HTTP 503' }));
    await sink.close();
    const logs = srv.requests.find((r) => r.url === '/v1/logs')!;
    const traces = srv.requests.find((r) => r.url === '/v1/traces')!;
    for (const r of [logs, traces]) expect([r.headers['content-encoding'], r.headers['content-type']]).toEqual(['gzip', 'application/x-protobuf']);
    expect(decodeLogs(gunzipSync(logs.body)).records).toHaveLength(2);
    const spans = decodeSpans(gunzipSync(traces.body));
    expect(spans.map((s) => [s.name, s.kind, s.status, s.end - s.start])).toEqual([
      ['deliver agent', 3n, { message: undefined, code: 1n }, 250_000_000n],
      ['deliver agent', 3n, { message: 'HTTP 503', code: 2n }, 0n],
    ]);
    expect(spans[0].end).toBe(T0);
    await until('the partial success warning', () => ctx.logged.some(([l]) => l === 'warn'));
    expect(ctx.logged.find(([l]) => l === 'warn')![1]).toMatch(/^otel test: http:\/\/127\.0\.0\.1:\d+\/v1\/logs rejected 1 of 2 item\(s\)$/);
  });

  it('grpc: LogsService/Export with the gRPC headers and metadata, one frame holding the same request; traces to TraceService', async () => {
    const srv = await grpcServer();
    closers.push(() => srv.close());
    const { sink } = open({ endpoint: srv.url.replace('http://', 'grpc://'), headers: { 'X-API-Key': TOKEN }, export: { traces: true }, service_name: 'orgloop-grpc', batch: { scheduled_delay_ms: 60_000 } });
    sink.log(entry({ phase: 'deliver.success', actor: 'agent', trace_id: 'trc_3', delivery_id: 'dlv_4', data: { attempt: 2, duration_ms: 40 }, message: 'delivered' }));
    await sink.close();
    const byPath = Object.fromEntries(srv.calls.map((c) => [c.headers[':path'], c]));
    expect(Object.keys(byPath).sort()).toEqual(['/opentelemetry.proto.collector.logs.v1.LogsService/Export', '/opentelemetry.proto.collector.trace.v1.TraceService/Export']);
    const call = byPath['/opentelemetry.proto.collector.logs.v1.LogsService/Export']!;
    expect(call.headers).toMatchObject({ ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers', 'x-api-key': TOKEN });
    expect(call.headers['grpc-timeout']).toMatch(/^\d{1,8}m$/);
    expect(call.compressed).toBe(false);
    const got = decodeLogs(call.message);
    expect(got.resource).toEqual({ 'service.name': 'orgloop-grpc' });
    expect(got.records).toHaveLength(1);
    expect(got.records[0]).toMatchObject({ time: T0, severityNumber: 9n, severityText: 'INFO' });
    expect(got.records[0].attrs['orgloop.attempt']).toBe(2n);
    const [span] = decodeSpans(byPath['/opentelemetry.proto.collector.trace.v1.TraceService/Export']!.message);
    expect([span.traceId, span.spanId]).toEqual([got.records[0].traceId, got.records[0].spanId]);
    expect(span.end - span.start).toBe(40_000_000n);
  });

  it('grpc over TLS (https:// endpoint): verified against the CA the process trusts, ALPN h2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-otlp-tls-'));
    closers.push(async () => rmSync(dir, { recursive: true, force: true }));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '2', '-subj', '/CN=collector', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const messages: Buffer[] = [];
    const server = http2.createSecureServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) });
    server.on('stream', (stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push(Buffer.concat(chunks).subarray(5));
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0' }, { endStream: true });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => server.close(() => r())));
    const endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // a private CA is trusted the Node way, NODE_EXTRA_CA_CERTS, read at start-up: a child process
    const script = [
      `import { otelLogger } from ${JSON.stringify(join(import.meta.dirname, 'otel.ts'))};`,
      `const ctx = { name: 'tls', config: { protocol: 'grpc', endpoint: ${JSON.stringify(endpoint)}, batch: { scheduled_delay_ms: 60000 } }, projectDir: '.', env: () => undefined, log: { debug() {}, info() {}, warn: (m) => console.log('WARN ' + m), error() {} } };`,
      `const sink = otelLogger.open(ctx);`,
      `sink.log({ time: '2024-05-01T12:00:01.123Z', phase: 'deliver.success', level: 'info', message: 'over tls' });`,
      `await sink.close();`,
      `console.log(JSON.stringify(sink.stats()));`,
      `console.log(JSON.stringify(await otelLogger.check(ctx)));`,
    ].join('\n');
    const run = (extraCa: boolean) =>
      new Promise<string>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { PATH: process.env.PATH, ...(extraCa ? { NODE_EXTRA_CA_CERTS: join(dir, 'c.pem') } : {}) }, cwd: join(import.meta.dirname, '../..') });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        child.on('close', () => resolve(out));
      });
    const trusted = (await run(true)).trim().split('\n');
    expect(trusted.slice(-2)).toEqual([JSON.stringify({ logs: { sent: 1, dropped: 0, failedRequests: 0 } }), JSON.stringify({ ok: true, detail: `${endpoint} (gRPC) accepts OTLP/gRPC` })]);
    expect(decodeLogs(messages[0]!).records[0].body).toContain('over tls');
    const untrusted = await run(false);
    expect(untrusted).toContain(JSON.stringify({ ok: false, detail: `${endpoint} (gRPC): gRPC UNAVAILABLE (self-signed certificate)` }));
  }, 60_000);

  it('grpc: UNAVAILABLE is retried with the same message; INVALID_ARGUMENT drops the batch with a warning showing no secret; gzip frames', async () => {
    const srv = await grpcServer((_c, n) => (n === 1 ? { status: 14, message: 'collector busy' } : n === 2 ? { status: 0 } : { status: 3, message: `bad record from key ${TOKEN}` }));
    closers.push(() => srv.close());
    const { ctx, sink } = open({ protocol: 'grpc', endpoint: srv.url, compression: 'gzip', headers: { authorization: `Bearer ${TOKEN}` }, batch: { scheduled_delay_ms: 30 } });
    sink.log(entry({ message: 'first' }));
    await until('the retried call to succeed', () => sink.stats().logs!.sent === 1, 15_000);
    expect(srv.calls[1]!.message.equals(srv.calls[0]!.message)).toBe(true);
    expect(srv.calls.every((c) => c.compressed && c.headers['grpc-encoding'] === 'gzip')).toBe(true);
    expect(sink.stats().logs).toMatchObject({ sent: 1, failedRequests: 1, dropped: 0 });
    sink.log(entry({ message: 'second' }));
    await until('the refusal warning', () => ctx.logged.some(([l]) => l === 'warn'));
    expect(srv.calls).toHaveLength(3);
    expect(sink.stats().logs).toMatchObject({ sent: 1, failedRequests: 2, dropped: 1 });
    const [, warning] = ctx.logged.find(([l]) => l === 'warn')!;
    expect(warning).toMatch(/^otel test: dropped 1 record\(s\): http:\/\/127\.0\.0\.1:\d+ \(gRPC\): gRPC INVALID_ARGUMENT \(bad record from key /);
  });

  it('grpc: while the collector never answers, log() returns at once, the queue keeps the newest max_queue_size records and counts the rest', async () => {
    let hanging = true;
    const srv = await grpcServer(() => (hanging ? 'hang' : { status: 0 }));
    closers.push(() => srv.close());
    const { ctx, sink } = open({ protocol: 'grpc', endpoint: srv.url, timeout_ms: 60_000, batch: { max_queue_size: 20, max_export_batch_size: 10, scheduled_delay_ms: 10 } });
    sink.log(entry({ message: 'opens the first call' }));
    await until('the first call to hang', () => srv.calls.length === 1);
    hanging = false;
    for (let i = 0; i < 500; i++) sink.log(entry({ message: `burst ${i}`, data: { blob: 'x'.repeat(1000) } }));
    expect(sink.stats().logs!.dropped).toBe(480);
    await until('a drop warning', () => ctx.logged.some(([l, m]) => l === 'warn' && /queue to http:\/\/127\.0\.0\.1:\d+ \(gRPC\) is full \(max_queue_size 20\); the oldest were dropped/.test(String(m))));
  });

  it('grpc: an address nobody listens on is retried, then dropped with the reason', async () => {
    const srv = await grpcServer();
    const url = srv.url;
    await srv.close();
    const { ctx, sink } = open({ protocol: 'grpc', endpoint: url, batch: { scheduled_delay_ms: 10 } });
    sink.log(entry({ message: 'nobody home' }));
    await until('the drop after five attempts', () => ctx.logged.some(([l]) => l === 'warn'), 40_000);
    expect(ctx.logged.find(([l]) => l === 'warn')![1]).toMatch(/^otel test: dropped 1 record\(s\): http:\/\/127\.0\.0\.1:\d+ \(gRPC\): gRPC UNAVAILABLE \(.*ECONNREFUSED.*\) after 5 attempt\(s\)$/);
  }, 60_000);

  it('doctor: an empty Export over gRPC and over http/protobuf; UNIMPLEMENTED and 415 are explained', async () => {
    const grpc = await grpcServer((c) => (c.headers[':path']!.includes('LogsService') ? { status: 0 } : { status: 12 }));
    closers.push(() => grpc.close());
    expect(await otelLogger.check!(makeCtx({ protocol: 'grpc', endpoint: grpc.url }))).toEqual({ ok: true, detail: `${grpc.url} (gRPC) accepts OTLP/gRPC` });
    expect(grpc.calls[0]!.message.length).toBe(0);
    const traceOnly = await otelLogger.check!(makeCtx({ protocol: 'grpc', endpoint: grpc.url, export: { logs: false, traces: true } }));
    expect(traceOnly).toEqual({ ok: false, detail: `${grpc.url} (gRPC): gRPC UNIMPLEMENTED (is this the OTLP gRPC port, usually 4317?)` });
    const http = await startServer((req, res) => {
      res.writeHead(req.headers['content-type'] === 'application/x-protobuf' ? 415 : 200);
      res.end();
    });
    closers.push(() => http.close());
    expect(await otelLogger.check!(makeCtx({ protocol: 'http/protobuf', endpoint: http.url }))).toEqual({ ok: false, detail: `${http.url}/v1/logs: HTTP 415 (the receiver does not take protobuf)` });
    expect(http.requests[0]!.body.length).toBe(0);
  });

  it('validate: grpc endpoints are addresses; a grpc:// endpoint needs protocol grpc; HTTP/1 headers cannot go over gRPC', () => {
    expect(otelLogger.validate!({ protocol: 'grpc', endpoint: 'http://collector:4317' })).toEqual([]);
    expect(otelLogger.validate!({ endpoint: 'grpc://collector:4317' })).toEqual([]);
    expect(otelLogger.validate!({ protocol: 'http/protobuf', endpoint: 'https://otlp.example/v1/logs', compression: 'gzip' })).toEqual([]);
    expect(otelLogger.validate!({ protocol: 'http', endpoint: 'http://localhost:4318' })).toEqual([]);
    expect(otelLogger.validate!({ protocol: 'grpc', endpoint: 'http://localhost:4318/v1/logs' })).toEqual([
      { path: 'endpoint', message: "with protocol: grpc, endpoint is the collector's address (host and port, usually :4317) and takes no path; /v1/logs is an OTLP/HTTP path (OrgLoop's logger sends OTLP/HTTP JSON to it whatever protocol says: set protocol: http/json for that)" },
    ]);
    expect(otelLogger.validate!({ protocol: 'http/json', endpoint: 'grpc://collector:4317' })[0]!.message).toBe('endpoint is a grpc:// address but protocol is http/json: set protocol: grpc, or give an http(s) URL such as http://localhost:4318/v1/logs');
    expect(otelLogger.validate!({ protocol: 'grpc', headers: { Connection: 'keep-alive' } })).toEqual([{ path: 'headers.Connection', message: 'Connection is an HTTP/1 connection header, which HTTP/2 (so gRPC) does not allow' }]);
  });
});

// used by the decoder self-check below: a body built by hand must decode to what it says
describe('the test decoder itself', () => {
  it('reads a hand-built LogRecord', () => {
    const kv = Buffer.concat([Buffer.from([0x0a, 1]), Buffer.from('k'), Buffer.from([0x12, 2, 0x18, 0x7f])]);
    const time = Buffer.alloc(8);
    time.writeBigUInt64LE(5n);
    const rec = Buffer.concat([Buffer.from([0x09]), time, Buffer.from([0x10, 9, 0x32, kv.length]), kv]);
    const d = decode(rec);
    expect([fixed64(d, 1), varint(d, 2), keyValues(msgs(d, 6))]).toEqual([5n, 9n, { k: 127n }]);
    expect(() => decode(Buffer.from([0x0a, 5, 1]))).toThrow('length past the end');
    expect(gunzipSync(gzipSync(rec)).equals(rec)).toBe(true);
  });
});
