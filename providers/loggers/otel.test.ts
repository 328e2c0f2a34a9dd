// The otel logger against a real OTLP/HTTP receiver on 127.0.0.1. The receiver checks each
// request against the OTLP JSON encoding (opentelemetry-proto's ExportLogsServiceRequest /
// ExportTraceServiceRequest, with the protocol spec's JSON rules: lowerCamelCase names, enums
// as numbers, 64-bit integers as decimal strings, hex trace and span ids) by a checker written
// for this test.

import { afterEach, describe, expect, it } from 'vitest';
import { otelLogger, type OtelSink } from './otel.js';
import { entry, makeCtx } from '../lib/test-helpers/context.js';
import { startServer } from '../lib/test-helpers/http.js';

const LOG_RECORD_FIELDS = new Set(['timeUnixNano', 'observedTimeUnixNano', 'severityNumber', 'severityText', 'body', 'attributes', 'droppedAttributesCount', 'flags', 'traceId', 'spanId', 'eventName']);
const SPAN_FIELDS = new Set(['traceId', 'spanId', 'traceState', 'parentSpanId', 'flags', 'name', 'kind', 'startTimeUnixNano', 'endTimeUnixNano', 'attributes', 'droppedAttributesCount', 'events', 'droppedEventsCount', 'links', 'droppedLinksCount', 'status']);
const u64 = /^\d+$/;

function checkAnyValue(v: any, at: string): void {
  const keys = Object.keys(v ?? {});
  if (keys.length !== 1) throw new Error(`${at}: an AnyValue has exactly one field, got ${JSON.stringify(v)}`);
  const [k] = keys;
  const x = v[k!];
  if (k === 'stringValue' && typeof x === 'string') return;
  if (k === 'boolValue' && typeof x === 'boolean') return;
  if (k === 'intValue' && ((typeof x === 'string' && /^-?\d+$/.test(x)) || Number.isInteger(x))) return;
  if (k === 'doubleValue' && typeof x === 'number') return;
  throw new Error(`${at}: bad AnyValue ${JSON.stringify(v)}`);
}
function checkAttributes(list: any, at: string): Record<string, unknown> {
  if (!Array.isArray(list)) throw new Error(`${at}: attributes must be a list of KeyValue`);
  const out: Record<string, unknown> = {};
  for (const kv of list) {
    if (typeof kv.key !== 'string' || !kv.key) throw new Error(`${at}: KeyValue without key`);
    checkAnyValue(kv.value, `${at}.${kv.key}`);
    if (kv.key in out) throw new Error(`${at}: duplicate attribute ${kv.key}`);
    out[kv.key] = Object.values(kv.value)[0];
  }
  return out;
}
function checkResource(r: any): Record<string, unknown> {
  const attrs = checkAttributes(r?.attributes, 'resource');
  if (typeof attrs['service.name'] !== 'string') throw new Error('resource has no service.name');
  return attrs;
}
function checkIds(o: any, at: string): void {
  if (o.traceId !== undefined && !/^[0-9a-f]{32}$/.test(o.traceId)) throw new Error(`${at}: traceId must be 32 hex digits`);
  if (o.spanId !== undefined && !/^[0-9a-f]{16}$/.test(o.spanId)) throw new Error(`${at}: spanId must be 16 hex digits`);
  if (o.traceId === '0'.repeat(32) || o.spanId === '0'.repeat(16)) throw new Error(`${at}: all-zero ids are invalid`);
}

function checkLogs(body: any): { resource: Record<string, unknown>; records: any[] } {
  if (!body || Object.keys(body).join() !== 'resourceLogs' || !Array.isArray(body.resourceLogs)) throw new Error('ExportLogsServiceRequest has one field, resourceLogs');
  const records: any[] = [];
  let resource: Record<string, unknown> = {};
  for (const rl of body.resourceLogs) {
    resource = checkResource(rl.resource);
    for (const sl of rl.scopeLogs) {
      if (typeof sl.scope?.name !== 'string') throw new Error('scope.name missing');
      for (const r of sl.logRecords) {
        for (const k of Object.keys(r)) if (!LOG_RECORD_FIELDS.has(k)) throw new Error(`LogRecord has no field ${k}`);
        if (!u64.test(r.timeUnixNano) || !u64.test(r.observedTimeUnixNano)) throw new Error('times must be decimal strings of nanoseconds');
        if (!Number.isInteger(r.severityNumber) || r.severityNumber < 1 || r.severityNumber > 24) throw new Error('severityNumber out of range');
        checkAnyValue(r.body, 'body');
        checkIds(r, 'LogRecord');
        records.push({ ...r, attrs: checkAttributes(r.attributes, 'LogRecord') });
      }
    }
  }
  return { resource, records };
}

function checkTraces(body: any): any[] {
  if (!body || Object.keys(body).join() !== 'resourceSpans') throw new Error('ExportTraceServiceRequest has one field, resourceSpans');
  const spans: any[] = [];
  for (const rs of body.resourceSpans) {
    checkResource(rs.resource);
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans) {
        for (const k of Object.keys(s)) if (!SPAN_FIELDS.has(k)) throw new Error(`Span has no field ${k}`);
        checkIds(s, 'Span');
        if (!s.traceId || !s.spanId || typeof s.name !== 'string') throw new Error('a span needs traceId, spanId and name');
        if (!Number.isInteger(s.kind) || s.kind < 0 || s.kind > 5) throw new Error('span kind out of range');
        if (!u64.test(s.startTimeUnixNano) || !u64.test(s.endTimeUnixNano) || BigInt(s.endTimeUnixNano) < BigInt(s.startTimeUnixNano)) throw new Error('span times');
        if (![0, 1, 2].includes(s.status?.code)) throw new Error('status.code must be 0, 1 or 2');
        spans.push({ ...s, attrs: checkAttributes(s.attributes, 'Span') });
      }
    }
  }
  return spans;
}

const until = async (what: string, fn: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const TOKEN = 'otel-ingest-token-5b7e1c9a';

describe('otel logger', () => {
  const closers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });
  async function receiver(answer: (n: number) => { status: number; headers?: Record<string, string>; body?: string } = () => ({ status: 200, body: '{}' })) {
    let n = 0;
    const srv = await startServer((req, res) => {
      const a = answer(++n);
      res.writeHead(a.status, { 'content-type': 'application/json', ...(a.headers ?? {}) });
      res.end(a.body ?? '{}');
    });
    closers.push(() => srv.close());
    return srv;
  }
  const open = (config: Record<string, unknown>) => {
    const ctx = makeCtx(config);
    const sink = otelLogger.open(ctx) as OtelSink;
    closers.unshift(() => sink.close());
    return { ctx, sink };
  };

  it('sends OTLP JSON log records in batches of max_export_batch_size, with the configured headers and resource; close sends the rest', async () => {
    const srv = await receiver();
    const { sink } = open({
      endpoint: `${srv.url}/v1/logs`,
      service_name: 'orgloop-prod',
      service_version: '1.2.3',
      resource_attributes: { 'deployment.environment': 'production' },
      headers: { Authorization: `Bearer ${TOKEN}` },
      batch: { max_export_batch_size: 3, scheduled_delay_ms: 60_000 },
    });
    for (let i = 0; i < 7; i++) {
      sink.log(entry({ level: i === 0 ? 'error' : i === 1 ? 'warn' : 'info', phase: 'deliver.success', actor: 'engineering-agent', event_id: `evt_${i}`, trace_id: 'trc_1', delivery_id: `dlv_${i}`, message: `delivered ${i}`, data: { attempt: 1, duration_ms: 40 + i } }));
    }
    await until('two full batches', () => srv.requests.length === 2);
    await sink.close();
    expect(srv.requests).toHaveLength(3);
    const bodies = srv.requests.map((r) => checkLogs(JSON.parse(r.body.toString())));
    expect(bodies.map((b) => b.records.length)).toEqual([3, 3, 1]);
    for (const r of srv.requests) {
      expect(r.url).toBe('/v1/logs');
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
    }
    expect(bodies[0]!.resource).toEqual({ 'service.name': 'orgloop-prod', 'service.version': '1.2.3', 'deployment.environment': 'production' });
    const [first, second, third] = bodies[0]!.records;
    expect([first.severityNumber, first.severityText, second.severityNumber, third.severityText]).toEqual([17, 'ERROR', 13, 'INFO']);
    expect(first.timeUnixNano).toBe(String(Date.parse('2024-05-01T12:00:01.123Z') * 1_000_000));
    expect(first.attrs).toEqual({
      'orgloop.phase': 'deliver.success',
      'orgloop.event_id': 'evt_0',
      'orgloop.trace_id': 'trc_1',
      'orgloop.source': 'github',
      'orgloop.route': 'pr-review',
      'orgloop.target': 'engineering-agent',
      'orgloop.delivery_id': 'dlv_0',
      'orgloop.attempt': '1',
      'orgloop.duration_ms': '40',
    });
    expect(JSON.parse(first.body.stringValue)).toMatchObject({ phase: 'deliver.success', message: 'delivered 0', event_id: 'evt_0' });
    // one event's records share a trace
    expect(new Set(bodies.flatMap((b) => b.records.map((r) => r.traceId))).size).toBe(1);
  });

  it('a partial batch goes out after scheduled_delay_ms without waiting for close; a bare base URL gets /v1/logs', async () => {
    const srv = await receiver();
    const { sink } = open({ endpoint: srv.url, batch: { scheduled_delay_ms: 100 } });
    sink.log(entry({ message: 'one' }));
    await until('the scheduled export', () => srv.requests.length === 1);
    expect(srv.requests[0]!.url).toBe('/v1/logs');
    expect(checkLogs(JSON.parse(srv.requests[0]!.body.toString())).records).toHaveLength(1);
  });

  it('retries a batch the collector cannot take now (503, Retry-After), drops one it refuses (400) with a warning that shows no credentials', async () => {
    const srv = await receiver((n) => (n === 1 ? { status: 503, headers: { 'retry-after': '1' } } : n === 2 ? { status: 200 } : { status: 400, body: '{"message":"bad"}' }));
    const { ctx, sink } = open({ endpoint: `${srv.url.replace('http://', `http://user:${TOKEN}@`)}/v1/logs?api_key=${TOKEN}`, headers: { 'x-api-key': TOKEN }, batch: { scheduled_delay_ms: 50 } });
    sink.log(entry({ message: 'first' }));
    await until('the retry to be answered', () => (sink as OtelSink).stats().logs!.sent === 1, 15_000);
    expect(srv.requests[1]!.body.toString()).toBe(srv.requests[0]!.body.toString());
    // fetch takes no credentials in a URL: the endpoint's userinfo is sent as Basic auth
    expect(srv.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}`);
    expect(srv.requests[0]!.headers['x-api-key']).toBe(TOKEN);
    expect((sink as OtelSink).stats().logs).toMatchObject({ sent: 1, failedRequests: 1, dropped: 0 });
    sink.log(entry({ message: 'second' }));
    await until('the refused batch', () => ctx.logged.some(([l]) => l === 'warn'));
    expect(srv.requests).toHaveLength(3);
    const [, warning] = ctx.logged.find(([l]) => l === 'warn')!;
    expect(warning).toMatch(/^otel test: dropped 1 record\(s\): http:\/\/127\.0\.0\.1:\d+\/v1\/logs: HTTP 400$/);
    expect(warning).not.toContain(TOKEN);
  });

  it('never blocks: while the collector hangs, log() returns at once and the queue stays within max_queue_size, dropping and counting the rest', async () => {
    const hung: Array<() => void> = [];
    let answering = false;
    const srv = await startServer((_req, res) => {
      const answer = () => {
        res.writeHead(200);
        res.end('{}');
      };
      if (answering) return answer();
      hung.push(answer);
    });
    closers.push(async () => {
      answering = true;
      for (const h of hung.splice(0)) h();
      await srv.close();
    });
    const { ctx, sink } = open({ endpoint: `${srv.url}/v1/logs`, batch: { max_queue_size: 20, max_export_batch_size: 10, scheduled_delay_ms: 10 }, timeout_ms: 60_000 });
    sink.log(entry({ message: 'opens the first request' }));
    await until('the first request to hang', () => srv.requests.length === 1);
    for (let i = 0; i < 500; i++) sink.log(entry({ message: `burst ${i}`, data: { blob: 'x'.repeat(1000) } }));
    // 20 wait in the queue; the other 480 were dropped, not buffered
    expect((sink as OtelSink).stats().logs!.dropped).toBe(480);
    await until('a drop warning', () => ctx.logged.some(([l, m]) => l === 'warn' && /queue to http:\/\/127\.0\.0\.1:\d+\/v1\/logs is full \(max_queue_size 20\)/.test(String(m))));
    // the collector comes back: the 20 that waited are sent, nothing more
    answering = true;
    for (const h of hung.splice(0)) h();
    await until('the queued records to be sent', () => (sink as OtelSink).stats().logs!.sent === 21);
  });

  it('export.traces: delivery outcomes become OTLP spans (client kind, start = end - duration, error status for dead)', async () => {
    const srv = await receiver();
    const { sink } = open({ endpoint: `${srv.url}/v1/logs`, export: { logs: true, traces: true }, batch: { scheduled_delay_ms: 60_000 } });
    sink.log(entry({ phase: 'deliver.success', actor: 'agent', trace_id: 'trc_9', delivery_id: 'dlv_9', data: { attempt: 2, duration_ms: 250 }, message: 'delivered' }));
    sink.log(entry({ phase: 'deliver.dead', level: 'error', actor: 'agent', trace_id: 'trc_9', delivery_id: 'dlv_8', data: { attempt: 5 }, message: 'dead: HTTP 410' }));
    sink.log(entry({ phase: 'route.match', trace_id: 'trc_9', message: 'not a span' }));
    await sink.close();
    const traceReq = srv.requests.find((r) => r.url === '/v1/traces')!;
    const spans = checkTraces(JSON.parse(traceReq.body.toString()));
    expect(spans.map((s) => [s.name, s.kind, s.status])).toEqual([
      ['deliver agent', 3, { code: 1 }],
      ['deliver agent', 3, { code: 2, message: 'dead: HTTP 410' }],
    ]);
    expect(BigInt(spans[0].endTimeUnixNano) - BigInt(spans[0].startTimeUnixNano)).toBe(250_000_000n);
    const logs = checkLogs(JSON.parse(srv.requests.find((r) => r.url === '/v1/logs')!.body.toString()));
    expect(logs.records).toHaveLength(3);
    // the record of a delivery points at its span
    expect([logs.records[0].traceId, logs.records[0].spanId]).toEqual([spans[0].traceId, spans[0].spanId]);
  });

  it('redacts its own header values and credentials in entries before they leave', async () => {
    const srv = await receiver();
    const { sink } = open({ endpoint: `${srv.url}/v1/logs`, headers: { Authorization: `Bearer ${TOKEN}` }, batch: { scheduled_delay_ms: 60_000 } });
    sink.log(entry({ level: 'error', message: `collector said: invalid token ${TOKEN}; retry https://u:pw-secret-1@example.test/x`, data: { client_secret: 's3cr3t-value', attempt: 1 } }));
    await sink.close();
    const text = srv.requests[0]!.body.toString();
    expect(text).not.toMatch(new RegExp(`${TOKEN}|pw-secret-1|s3cr3t-value`));
    const [r] = checkLogs(JSON.parse(text)).records;
    expect(JSON.parse(r.body.stringValue).message).toBe('collector said: invalid token [redacted]; retry https://[redacted]@example.test/x');
    expect(r.attrs['orgloop.client_secret']).toBe('[redacted]');
  });

  it("validate: OrgLoop's full README block is accepted; metrics export and a grpc endpoint with an OTLP/HTTP path are named", () => {
    const upstream = {
      endpoint: 'http://localhost:4318/v1/logs',
      protocol: 'http/json',
      service_name: 'orgloop',
      service_version: '0.1.0',
      headers: { Authorization: 'Bearer x' },
      resource_attributes: { 'deployment.environment': 'production' },
      batch: { max_queue_size: 2048, scheduled_delay_ms: 5000, max_export_batch_size: 512 },
    };
    expect(otelLogger.validate!(upstream)).toEqual([]);
    expect(otelLogger.validate!({ ...upstream, protocol: 'http/protobuf' })).toEqual([]);
    expect(otelLogger.validate!({ ...upstream, protocol: 'grpc' })[0]!.message).toMatch(/^with protocol: grpc, endpoint is the collector's address/);
    expect(otelLogger.validate!({ protocol: 'grpc' })).toEqual([]);
    expect(otelLogger.validate!({ export: { metrics: true } })[0]!.path).toBe('export.metrics');
    expect(otelLogger.validate!({ endpoint: 'localhost:4318' })[0]).toMatchObject({ path: 'endpoint' });
  });
});

describe('otel logger: doctor', () => {
  it('posts an empty export request with the headers; names a refusal', async () => {
    const srv = await startServer((req, res) => {
      res.writeHead(req.headers.authorization === `Bearer ${TOKEN}` ? 200 : 401);
      res.end('{}');
    });
    try {
      expect(await otelLogger.check!(makeCtx({ endpoint: srv.url, headers: { Authorization: `Bearer ${TOKEN}` } }))).toEqual({ ok: true, detail: `${srv.url}/v1/logs accepts OTLP/HTTP JSON` });
      expect(JSON.parse(srv.requests[0]!.body.toString())).toEqual({ resourceLogs: [] });
      const bad = await otelLogger.check!(makeCtx({ endpoint: srv.url, headers: { Authorization: 'Bearer wrong-token' } }));
      expect(bad).toEqual({ ok: false, detail: `${srv.url}/v1/logs: HTTP 401 (check headers)` });
    } finally {
      await srv.close();
    }
  });
});
