// The otel and syslog loggers inside a real executor (the SDK harness: plan, apply, start),
// configured in OrgLoop's shapes: the executor's own log entries reach a real OTLP receiver
// (HTTP JSON, and gRPC over HTTP/2), a real UDP syslog listener and a TLS one.

import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { otelLogger } from './otel.js';
import { syslogLogger } from './syslog.js';
import { startHarness, type ProviderHarness } from '../../sdk/harness.js';
import { startServer } from '../lib/test-helpers/http.js';

const until = async (what: string, fn: () => boolean, ms = 15_000) => {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

const traffic = {
  sources: [{ id: 'inbox', connector: 'webhook' }],
  actors: [{ id: 'sink', connector: 'command', config: { command: 'cat > /dev/null' } }],
  routes: [{ name: 'to-sink', when: { source: 'inbox' }, then: { actor: 'sink' } }],
};

describe('otel and syslog loggers in a running executor', () => {
  const closers: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const c of closers.splice(0)) await c();
  });

  it('otel: a delivery shows up at the collector as OTLP log records, with the header token from .env', async () => {
    const srv = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    closers.push(() => srv.close());
    const h: ProviderHarness = await startHarness({
      provider: otelLogger,
      config: { endpoint: `${srv.url}/v1/logs`, service_name: 'orgloop', headers: { Authorization: 'Bearer ${OTEL_TOKEN}' }, batch: { scheduled_delay_ms: 100 } },
      env: { OTEL_TOKEN: 'tok-from-env-123' },
      project: traffic,
    });
    closers.unshift(() => h.close());
    expect((await h.webhook({ type: 'ping' }, {}, '/webhook/inbox')).status).toBeLessThan(300);
    const phases = () => srv.requests.flatMap((r) => JSON.parse(r.body.toString()).resourceLogs[0].scopeLogs[0].logRecords.map((l: any) => l.attributes.find((a: any) => a.key === 'orgloop.phase').value.stringValue));
    await until('a deliver.success record', () => phases().includes('deliver.success'));
    expect(srv.requests.every((r) => r.headers.authorization === 'Bearer tok-from-env-123')).toBe(true);
    expect(phases()).toContain('source.emit');
  });

  it('otel over gRPC: the executor\'s records arrive as LogsService/Export calls carrying the header as metadata', async () => {
    const calls: Array<{ path: string; token: string; message: Buffer }> = [];
    const server = http2.createServer();
    server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        calls.push({ path: String(headers[':path']), token: String(headers.authorization), message: Buffer.concat(chunks).subarray(5) });
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(Buffer.alloc(5));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => server.close(() => r())));
    const h = await startHarness({
      provider: otelLogger,
      config: { endpoint: `grpc://127.0.0.1:${(server.address() as AddressInfo).port}`, protocol: 'grpc', headers: { Authorization: 'Bearer ${OTEL_TOKEN}' }, batch: { scheduled_delay_ms: 100 } },
      env: { OTEL_TOKEN: 'tok-grpc-456' },
      project: traffic,
    });
    closers.unshift(() => h.close());
    expect((await h.webhook({ type: 'ping' }, {}, '/webhook/inbox')).status).toBeLessThan(300);
    // the phase is an attribute value: its bytes are in the protobuf message as they are
    await until('a deliver.success record', () => calls.some((c) => c.message.includes('deliver.success')));
    expect(new Set(calls.map((c) => c.path))).toEqual(new Set(['/opentelemetry.proto.collector.logs.v1.LogsService/Export']));
    expect(calls.every((c) => c.token === 'Bearer tok-grpc-456')).toBe(true);
  });

  it('syslog over TLS: the delivery arrives octet-counted on a verified connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-remote-tls-'));
    closers.push(async () => rmSync(dir, { recursive: true, force: true }));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const got: string[] = [];
    const server = createTlsServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (sock) => {
      let buf = Buffer.alloc(0);
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        for (let sp = buf.indexOf(32); sp > 0; sp = buf.indexOf(32)) {
          const len = Number(buf.subarray(0, sp).toString());
          if (buf.length < sp + 1 + len) break;
          got.push(buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
          buf = buf.subarray(sp + 1 + len);
        }
      });
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => server.close(() => r())));
    const h = await startHarness({
      provider: syslogLogger,
      config: { protocol: 'tls', host: '127.0.0.1', port: (server.address() as AddressInfo).port, format: 'rfc5424', tls: { ca_file: join(dir, 'c.pem') } },
      project: traffic,
    });
    closers.unshift(() => h.close());
    expect((await h.webhook({ type: 'ping' }, {}, '/webhook/inbox')).status).toBeLessThan(300);
    await until('a deliver.success message', () => got.some((m) => / deliver\.success \[orgloop@49999 /.test(m)));
    expect(got.find((m) => m.includes(' deliver.success '))).toMatch(/^<134>1 \S+ \S+ orgloop \d+ deliver\.success \[orgloop@49999 [^\]]*route="to-sink" target="sink"/);
  });

  it('syslog: the same delivery arrives as RFC 5424 datagrams', async () => {
    const udp = createSocket('udp4');
    const got: string[] = [];
    udp.on('message', (b) => got.push(b.toString('utf8')));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    closers.push(async () => udp.close());
    const h = await startHarness({
      provider: syslogLogger,
      config: { transport: 'udp', host: '127.0.0.1', port: (udp.address() as AddressInfo).port, facility: 'local0', app_name: 'orgloop', include_structured_data: true, level: 'debug' },
      project: traffic,
    });
    closers.unshift(() => h.close());
    expect((await h.webhook({ type: 'ping' }, {}, '/webhook/inbox')).status).toBeLessThan(300);
    await until('a deliver.success message', () => got.some((m) => / orgloop \d+ deliver\.success \[orgloop@49999 /.test(m)));
    const m = got.find((x) => x.includes(' deliver.success '))!;
    expect(m).toMatch(/^<134>1 \d{4}-\d\d-\d\dT[\d:.]+Z \S+ orgloop \d+ deliver\.success \[orgloop@49999 [^\]]*route="to-sink" target="sink"/);
  });
});
