// Bounded memory (issue 17 item 3), the correctness half (the measurement is bench/memory.ts):
// with a small event-memory budget, large events for a stalled actor are all acknowledged,
// only as many deliveries hold their bodies as the budget allows (the rest wait, their bodies
// in the store), and once the actor recovers every event is delivered, none lost or dead.

import type http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { acked, appliedProject, sendLoad, snapshot, startExec, startRecordingSink, until, webhookToSink } from './harness.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => {});
});

describe('reliability: bounded event memory', () => {
  it('a stalled actor and events larger than the budget: nothing lost, delivered once the actor recovers', async () => {
    let stalled = true;
    const held: http.ServerResponse[] = [];
    let open = 0;
    let maxOpen = 0;
    const sink = await startRecordingSink((_hit, res) => {
      if (!stalled) return { status: 200 };
      open++;
      maxOpen = Math.max(maxOpen, open);
      held.push(res);
      return 'handled';
    });
    cleanup.push(sink.close);
    const dir = await appliedProject(webhookToSink(sink.url).replace('connector: webhook\nactors', 'connector: webhook\n    config: { max_body: 2MB }\nactors'));
    // 1 MB of event memory; each event costs ~2 x 300 KB: one body at a time
    const ex = await startExec(dir, { ORGLOOP_EVENT_MEMORY_MB: '1' });
    cleanup.push(() => ex.kill9());

    const sent = await sendLoad(`${ex.url}/webhook/inbox`, 12, { prefix: 'big', concurrency: 3, bytes: 300_000 });
    expect(acked(sent)).toHaveLength(12);
    await until(() => held.length >= 1, 10_000, 'the first delivery at the stalled actor');
    // 64 slots, but the budget lets one body out at a time: the rest wait without theirs
    await new Promise((r) => setTimeout(r, 500));
    expect(maxOpen).toBe(1);

    stalled = false;
    for (const res of held.splice(0)) {
      open--;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    }
    await until(() => new Set(sink.hits.map((h) => h.key)).size === 12, 20_000, 'every event at the recovered actor');
    await until(async () => (await snapshot(dir)).deliveries.every((d) => d.status === 'delivered'), 10_000, 'every delivery marked delivered');
    const { deliveries } = await snapshot(dir);
    expect(deliveries).toHaveLength(12);
    expect(deliveries.filter((d) => d.status !== 'delivered')).toEqual([]);
    for (const h of sink.hits) expect(h.body.event.payload.pad).toHaveLength(300_000);
  }, 60_000);

  it('concurrent senders of bodies larger than the ingest budget are served one after another: all acknowledged and stored', async () => {
    const sink = await startRecordingSink();
    cleanup.push(sink.close);
    const dir = await appliedProject(webhookToSink(sink.url).replace('connector: webhook\nactors', 'connector: webhook\n    config: { max_body: 2MB }\nactors'));
    // 1 MB of ingest memory: every 800 KB body (~4 MB of work) takes all of it, alone
    const ex = await startExec(dir, { ORGLOOP_INGEST_BUDGET: '1MB', ORGLOOP_BODY_BUDGET: '2MB' });
    cleanup.push(() => ex.kill9());
    const sent = await sendLoad(`${ex.url}/webhook/inbox`, 12, { prefix: 'conc', concurrency: 4, bytes: 800_000 });
    expect(acked(sent)).toHaveLength(12);
    const { events } = await snapshot(dir);
    expect(events.filter((e) => e.source === 'inbox')).toHaveLength(12);
  }, 60_000);
});
