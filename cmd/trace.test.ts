// W3C trace context through a real executor process: passed through unchanged with tracing off,
// and exported over OTLP/HTTP to a collector when the standard OTEL_* variables ask for it.

import { afterEach, describe, expect, it } from 'vitest';
import { parseTraceparent } from '../engine/run/tracing.js';
import { applyDirect, postJson, runExecutor, startSink, tempProject, until, type RunningExecutor } from './test-helpers/executor.js';

const running: RunningExecutor[] = [];
const sinks: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
  for (const s of sinks.splice(0)) await s.close();
});

const project = (sinkUrl: string) => ({
  'orgloop.yaml': `
sources:
  - id: hooks
    connector: webhook
actors:
  - id: agent
    connector: webhook
    config: { url: "${sinkUrl}/agent" }
  - id: tool
    connector: command
    config: { command: "true" }
routes:
  - name: to-agent
    when: { source: hooks }
    then: { actor: agent }
  - name: to-tool
    when: { source: hooks }
    then: { actor: tool }
  - name: after-tool
    when: { source: tool, events: [actor.stopped] }
    then: { actor: agent }
`,
});
const routeOf = (r: { body: unknown }) => (r.body as { delivery: { route: string } }).delivery.route;

describe('trace context through the executor', () => {
  it('with tracing off passes the sender traceparent on, and derives one shared by the whole loop without it', async () => {
    const sink = await startSink();
    sinks.push(sink);
    const dir = tempProject(project(sink.url));
    await applyDirect(dir);
    const ex = await runExecutor(['start', '--port', '0'], { cwd: dir });
    running.push(ex);

    const sender = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect((await postJson(`${ex.url}/webhook/hooks`, { id: 'a' }, { traceparent: sender })).status).toBe(202);
    await until(() => sink.received.length === 2, 10_000, 'to-agent and after-tool');
    expect(sink.received.map((r) => r.headers.traceparent)).toEqual([sender, sender]);

    expect((await postJson(`${ex.url}/webhook/hooks`, { id: 'b' }, { traceparent: '00-not-a-valid-context' })).status).toBe(202);
    await until(() => sink.received.length === 4, 10_000, 'the second pair');
    const [direct, loop] = [sink.received[2]!, sink.received[3]!].sort((x, y) => routeOf(x).localeCompare(routeOf(y)));
    const a = parseTraceparent(direct!.headers.traceparent)!;
    const b = parseTraceparent(loop!.headers.traceparent)!;
    expect(a).not.toBeNull();
    expect(b.traceId).toBe(a.traceId); // one trace across the loop's hops
    expect(b.spanId).not.toBe(a.spanId);
  });

  it('exports the spans over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set', async () => {
    const sink = await startSink();
    sinks.push(sink);
    const collector = await startSink();
    sinks.push(collector);
    const dir = tempProject(project(sink.url));
    await applyDirect(dir);
    const ex = await runExecutor(['start', '--port', '0'], {
      cwd: dir,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_SERVICE_NAME: 'org-under-test', OTEL_BSP_SCHEDULE_DELAY: '100' },
    });
    running.push(ex);
    await ex.waitFor(`traces exported over OTLP/HTTP to ${collector.url}/v1/traces`);
    const sender = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect((await postJson(`${ex.url}/webhook/hooks`, { id: 'a' }, { traceparent: sender })).status).toBe(202);
    await until(() => sink.received.length === 2, 10_000, 'deliveries');
    await ex.stop(); // flushes what is still batched

    type OtlpSpan = { name: string; traceId: string; parentSpanId?: string };
    const batches = collector.received.filter((r) => r.path === '/v1/traces');
    expect(batches.length).toBeGreaterThan(0);
    const spans: OtlpSpan[] = [];
    let service = '';
    for (const b of batches) {
      for (const rs of (b.body as { resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans: Array<{ spans: OtlpSpan[] }> }> }).resourceSpans) {
        service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? service;
        for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
    }
    expect(service).toBe('org-under-test');
    const names = new Set(spans.map((s) => s.name));
    for (const n of ['receive hooks', 'route', 'process to-agent', 'send agent', 'settle to-agent', 'process to-tool', 'send tool', 'receive tool', 'process after-tool']) {
      expect(names.has(n), n).toBe(true);
    }
    // OTLP/JSON carries ids as hex
    expect(new Set(spans.map((s) => s.traceId.toLowerCase()))).toEqual(new Set(['0af7651916cd43dd8448eb211c80319c']));
    // the agent got the context of a span that was exported
    const sent = sink.received.map((r) => parseTraceparent(r.headers.traceparent)!.spanId);
    expect(spans.some((s) => s.name === 'send agent' && sent.includes((s as unknown as { spanId: string }).spanId.toLowerCase()))).toBe(true);
  });
});
