// Spans of the loop, recorded by a real OpenTelemetry SDK into memory, around an in-process
// executor that receives a webhook with a traceparent and delivers to a real HTTP sink and a
// command actor: the sender's trace continues through orgloop into both actors and the
// actor.stopped event's own delivery.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { applyDirect, postJson, startSink, tempProject, until } from '../../cmd/test-helpers/executor.js';
import { openStore } from '../../state/open.js';
import { Executor } from './executor.js';
import { DEFAULT_SETTINGS } from './settings.js';
import { derivedTraceparent, formatTraceparent, parseTraceparent, Tracing } from './tracing.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
});

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  exporter.reset();
});

describe('traceparent', () => {
  it('parses only well-formed W3C version-00 values and formats them back', () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const sc = parseTraceparent(tp)!;
    expect(sc).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true });
    expect(formatTraceparent(sc)).toBe(tp);
    for (const bad of [undefined, '', 'x', tp.replace('00-', '01-'), `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`, `${tp}\r\nx-evil: 1`]) {
      expect(parseTraceparent(bad)).toBeNull();
    }
    const d = derivedTraceparent('evt_a', 'evt_b');
    expect(parseTraceparent(d)).not.toBeNull();
    expect(derivedTraceparent('evt_a', 'evt_c').slice(3, 35)).toBe(d.slice(3, 35)); // same trace, another span
  });
});

describe('executor spans', () => {
  it('continues the sender trace through receive, route, process, transform, send and settle into the actors', async () => {
    const sink = await startSink();
    cleanup.push(() => sink.close());
    const dir = tempProject({
      'orgloop.yaml': `
sources:
  - id: hooks
    connector: webhook
actors:
  - id: agent
    connector: webhook
    config: { url: "${sink.url}/agent" }
  - id: tool
    connector: command
    config: { command: 'printf "%s" "$TRACEPARENT" > tp.txt' }
transforms:
  - name: keep
    type: filter
    config: { exclude: { payload.skip: true } }
routes:
  - name: to-agent
    when: { source: hooks }
    transforms: [keep]
    then: { actor: agent }
  - name: to-tool
    when: { source: hooks }
    then: { actor: tool }
  - name: after-tool
    when: { source: tool, events: [actor.stopped] }
    then: { actor: agent }
`,
    });
    await applyDirect(dir);
    const store = await openStore(join(dir, '.orgloop', 'state.db'));
    const ex = new Executor({ store, settings: { ...DEFAULT_SETTINGS, port: 0, consoleLevel: 'error' }, write: () => {}, tracing: new Tracing(true) });
    cleanup.push(async () => {
      await ex.stop();
      await store.close();
    });
    const addr = await ex.start();

    const sender = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const res = await postJson(`http://127.0.0.1:${addr.port}/webhook/hooks`, { id: 'e1' }, { traceparent: sender });
    expect(res.status).toBe(202);
    // to-agent, to-tool, then after-tool (the tool's actor.stopped) reach the sink
    await until(() => sink.received.length >= 2, 10_000, 'both deliveries to the sink');
    await until(() => exporter.getFinishedSpans().filter((s) => s.name === 'process after-tool').length === 1, 10_000, 'the loop delivery spans');

    const spans = exporter.getFinishedSpans();
    const byName = (n: string) => spans.filter((s) => s.name === n);
    const one = (n: string): ReadableSpan => {
      const found = byName(n);
      expect(found, n).toHaveLength(1);
      return found[0]!;
    };
    const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));

    const receive = one('receive hooks');
    expect(parentOf(receive)).toBe('00f067aa0ba902b7');
    expect(receive.attributes['messaging.operation.type']).toBe('receive');
    const route = byName('route').find((s) => parentOf(s) === receive.spanContext().spanId)!;
    expect([...(route.attributes['orgloop.routes'] as string[])].sort()).toEqual(['to-agent', 'to-tool']);

    const process = one('process to-agent');
    expect(parentOf(process)).toBe(receive.spanContext().spanId);
    const transform = one('transform keep');
    expect(parentOf(transform)).toBe(process.spanContext().spanId);
    expect(transform.attributes['orgloop.transform.decision']).toBe('pass');
    const sendAgent = byName('send agent').find((s) => parentOf(s) === process.spanContext().spanId)!;
    const settle = one('settle to-agent');
    expect(parentOf(settle)).toBe(process.spanContext().spanId);
    expect(settle.attributes['orgloop.delivery.outcome']).toBe('delivered');
    expect(process.attributes['orgloop.delivery.outcome']).toBe('delivered');

    // the sink got the send span's context: its own spans would be children of orgloop's
    const first = sink.received.find((r) => (r.body as { delivery: { route: string } }).delivery.route === 'to-agent')!;
    expect(first.headers.traceparent).toBe(formatTraceparent(sendAgent.spanContext()));

    // the command actor got TRACEPARENT of its send span
    const sendTool = one('send tool');
    expect(readFileSync(join(dir, 'tp.txt'), 'utf8')).toBe(formatTraceparent(sendTool.spanContext()));

    // the tool's actor.stopped is received as a child of the event that caused it, in the same trace
    const stopped = one('receive tool');
    expect(parentOf(stopped)).toBe(receive.spanContext().spanId);
    const loop = one('process after-tool');
    expect(parentOf(loop)).toBe(stopped.spanContext().spanId);
    const second = sink.received.find((r) => (r.body as { delivery: { route: string } }).delivery.route === 'after-tool')!;
    expect(parseTraceparent(second.headers.traceparent)!.traceId).toBe(traceId);
  });
});
