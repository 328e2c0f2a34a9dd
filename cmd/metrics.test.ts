// GET /metrics and GET /ready of a real executor after real traffic: accepted, duplicate and
// rejected webhooks, a delivery that succeeds, one that retries then dies, and a transform drop.

import { afterEach, describe, expect, it } from 'vitest';
import { applyDirect, postJson, runExecutor, startSink, tempProject, until, type RunningExecutor } from './test-helpers/executor.js';

const running: RunningExecutor[] = [];
const sinks: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
  for (const s of sinks.splice(0)) await s.close();
});

/** Parses Prometheus text into sample name{labels} -> value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return samples(await res.text());
}

describe('executor metrics and readiness', () => {
  it('counts ingest, duplicates, rejections, deliveries and latency, and reports the backlog', async () => {
    const sink = await startSink((r) => (r.path === '/fail' ? 500 : 200));
    sinks.push(sink);
    const dir = tempProject({
      'orgloop.yaml': `
sources:
  - id: hooks
    connector: webhook
    config: { dedupe_field: id }
  - id: signed
    connector: webhook
    config: { secret: "\${HOOK_SECRET}" }
actors:
  - id: good
    connector: webhook
    config: { url: "${sink.url}/ok" }
  - id: bad
    connector: webhook
    config: { url: "${sink.url}/fail" }
transforms:
  - name: only-keep
    type: filter
    config: { exclude: { payload.skip: true } }
routes:
  - name: to-good
    when: { source: hooks }
    transforms: [only-keep]
    then: { actor: good }
  - name: to-bad
    when: { source: hooks, filter: { payload.fail: true } }
    then: { actor: bad }
    delivery: { max_attempts: 2 }
`,
      '.env': 'HOOK_SECRET=s3cret-value\n',
    });
    await applyDirect(dir);
    const ex = await runExecutor(['start', '--port', '0'], { cwd: dir });
    running.push(ex);

    const ready = await fetch(`${ex.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, serial: 1, checks: { graph: 'ok', store: 'ok' } });

    const hook = `${ex.url}/webhook/hooks`;
    expect((await postJson(hook, { id: 'a1', n: 1 })).status).toBe(202);
    expect((await postJson(hook, { id: 'a1', n: 1 })).status).toBe(200); // duplicate (same body id)
    expect((await postJson(hook, { id: 'a2', skip: true })).status).toBe(202); // dropped by the filter
    expect((await postJson(hook, { id: 'a3', fail: true })).status).toBe(202); // to-good delivers, to-bad dies
    expect((await postJson(`${ex.url}/webhook/signed`, { id: 'x' })).status).toBe(401);
    expect((await postJson(`${ex.url}/webhook/no-such-source`, {})).status).toBe(404);

    const m = await until(async () => {
      const s = await scrape(ex.url);
      return (s.get('orgloop_deliveries_total{route="to-bad",actor="bad",outcome="dead"}') ?? 0) === 1 &&
        (s.get('orgloop_deliveries_total{route="to-good",actor="good",outcome="delivered"}') ?? 0) === 2
        ? s
        : null;
    }, 15_000, 'deliveries to settle in /metrics');

    expect(m.get('orgloop_events_received_total{source="hooks"}')).toBe(3);
    expect(m.get('orgloop_events_duplicate_total{source="hooks"}')).toBe(1);
    expect(m.get('orgloop_events_rejected_total{source="signed",reason="unauthorized"}')).toBe(1);
    // an unknown source's name is never a label value
    expect(m.get('orgloop_events_rejected_total{source="",reason="not_found"}')).toBe(1);
    expect([...m.keys()].some((k) => k.includes('no-such-source'))).toBe(false);
    expect(m.get('orgloop_route_matches_total{source="hooks",route="to-good"}')).toBe(3);
    expect(m.get('orgloop_route_matches_total{source="hooks",route="to-bad"}')).toBe(1);
    expect(m.get('orgloop_deliveries_total{route="to-good",actor="good",outcome="dropped"}')).toBe(1);
    expect(m.get('orgloop_deliveries_total{route="to-bad",actor="bad",outcome="retry"}')).toBe(1);
    expect(m.get('orgloop_transform_decisions_total{transform="only-keep",decision="pass"}')).toBe(2);
    expect(m.get('orgloop_transform_decisions_total{transform="only-keep",decision="drop"}')).toBe(1);
    expect(m.get('orgloop_delivery_duration_seconds_count{actor="good"}')).toBe(2);
    expect(m.get('orgloop_end_to_end_latency_seconds_count{actor="good"}')).toBe(2);
    expect(m.get('orgloop_end_to_end_latency_seconds_sum{actor="good"}')).toBeGreaterThan(0);
    expect(m.get('orgloop_delivery_duration_seconds_bucket{actor="good",le="+Inf"}')).toBe(2);
    expect(m.get('orgloop_applied_serial')).toBe(1);
    expect(m.get('orgloop_store_up')).toBe(1);
    expect(m.get('orgloop_store_size_bytes')).toBeGreaterThan(4096);
    expect(m.get('orgloop_leases_expired')).toBe(0);
    expect(m.get('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sink.received.filter((r) => r.path === '/ok')).toHaveLength(2);

    // the store gauges are read at most every few seconds: the dead letter shows up on a later scrape
    const later = await until(async () => {
      const s = await scrape(ex.url);
      return s.get('orgloop_dead_letters{route="to-bad",actor="bad"}') === 1 ? s : null;
    }, 5000, 'the dead letter gauge');
    expect([...later.keys()].filter((k) => k.startsWith('orgloop_backlog_deliveries{'))).toEqual([]);

    expect((await fetch(`${ex.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('reports the backlog and the oldest pending age while the actor is busy', async () => {
    const dir = tempProject({
      'orgloop.yaml': `
sources:
  - id: hooks
    connector: webhook
actors:
  - id: slow
    connector: command
    config: { command: "sleep 30" }
routes:
  - name: r
    when: { source: hooks }
    then: { actor: slow }
`,
    });
    await applyDirect(dir);
    const ex = await runExecutor(['start', '--port', '0', '--concurrency', '1'], { cwd: dir, env: { ORGLOOP_PREFETCH: '1', ORGLOOP_SHUTDOWN_GRACE_MS: '200' } });
    running.push(ex);
    // one runs, one waits in memory leased at ingest (prefetch 1), the third queues in the store
    for (let i = 0; i < 3; i++) expect((await postJson(`${ex.url}/webhook/hooks`, { id: `e${i}` })).status).toBe(202);
    const m = await until(async () => {
      const s = await scrape(ex.url);
      const pending = s.get('orgloop_backlog_deliveries{route="r",actor="slow",status="pending"}') ?? 0;
      const leased = s.get('orgloop_backlog_deliveries{route="r",actor="slow",status="leased"}') ?? 0;
      return pending + leased === 3 && (s.get('orgloop_backlog_oldest_age_seconds{route="r",actor="slow"}') ?? 0) > 0 ? s : null;
    }, 10_000, 'the backlog gauges');
    // at most one running and one waiting in memory: the rest waits in the store
    expect(m.get('orgloop_backlog_deliveries{route="r",actor="slow",status="pending"}')).toBeGreaterThanOrEqual(1);
    expect(m.get('orgloop_deliveries_in_flight')).toBe(1);
    expect(m.get('orgloop_backlog_oldest_age_seconds{route="r",actor="slow"}')).toBeLessThan(60);
  });
});
