// Retries (issue 17 items 4 and 10). The default retry schedule rides out a long outage: with
// the default schedule scaled down 400x, an actor down for the scaled 10 minutes (1.5 s) loses
// nothing to dead letters. And a request no retry can fix (a templated header HTTP cannot
// carry) is dead after its first attempt, with a message that says why.

import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE_MS } from '../../engine/run/retry.js';
import { acked, appliedProject, sendLoad, snapshot, startExec, startRecordingSink, until, webhookToSink } from './harness.js';

const SCALE = 400;
const OUTAGE_MS = (10 * 60_000) / SCALE;

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => {});
});

const project = (sinkUrl: string, delivery: string, headers = '') => webhookToSink(sinkUrl, `    delivery: ${delivery}`, headers);

describe('reliability: retry budget', () => {
  it('an actor down for (scaled) 10 minutes loses nothing to dead letters under the default schedule', async () => {
    let upAt = Infinity;
    const sink = await startRecordingSink(() => ({ status: Date.now() >= upAt ? 200 : 503 }));
    cleanup.push(sink.close);
    const scaled = DEFAULT_RETRY_SCHEDULE_MS.map((ms) => `${Math.max(1, Math.round(ms / SCALE))}ms`);
    const dir = await appliedProject(project(sink.url, `{ retry: [${scaled.join(', ')}] }`));
    const ex = await startExec(dir);
    cleanup.push(() => ex.kill9());

    upAt = Date.now() + OUTAGE_MS;
    const sent = await sendLoad(`${ex.url}/webhook/inbox`, 20, { prefix: 'down', concurrency: 4 });
    expect(acked(sent)).toHaveLength(20);
    await until(async () => (await snapshot(dir)).deliveries.every((d) => d.status === 'delivered' || d.status === 'dead'), 20_000, 'every delivery settled');
    const { deliveries } = await snapshot(dir);
    expect(deliveries).toHaveLength(20);
    expect(deliveries.filter((d) => d.status === 'dead')).toEqual([]);
    // they did fail while the actor was down, and were retried on the schedule
    expect(Math.min(...deliveries.map((d) => d.attempts))).toBeGreaterThanOrEqual(2);
    const deliveredAfterUp = sink.hits.filter((h) => h.at > upAt + 100 && h.key !== undefined);
    expect(deliveredAfterUp.length).toBeGreaterThan(0);
  }, 40_000);

  it('a templated header HTTP cannot carry is dead after one attempt, saying which header', async () => {
    const sink = await startRecordingSink();
    cleanup.push(sink.close);
    const dir = await appliedProject(project(sink.url, '{ retry: [10ms, 10ms, 10ms] }', "      headers: { x-title: '{{payload.title}}' }"));
    const ex = await startExec(dir);
    cleanup.push(() => ex.kill9());
    const res = await fetch(`${ex.url}/webhook/inbox`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'q1', title: 'It\u2019s done \u{1F680}' }) });
    expect(res.status).toBe(202);
    await until(async () => (await snapshot(dir)).deliveries.some((d) => d.status === 'dead'), 10_000, 'the delivery dead');
    const [d] = (await snapshot(dir)).deliveries;
    expect(d).toMatchObject({ status: 'dead', attempts: 1 });
    expect(d!.last_error).toMatch(/^header x-title cannot be sent: its value has the character U\+2019 .*\(not retryable\)$/);
    expect(sink.hits).toHaveLength(0);
  }, 20_000);
});
