// The otel and syslog loggers inside a real executor (the SDK harness: plan, apply, start),
// configured in OrgLoop's shapes: the executor's own log entries reach a real OTLP receiver and
// a real UDP syslog listener.

import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
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
