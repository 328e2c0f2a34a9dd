// Deliveries leased at ingest beyond the running ones (ORGLOOP_PREFETCH) wait in the executor's
// memory. They must stay leased while they wait (no peer reclaims them), run exactly once when
// slots free, and survive kill -9: their leases expire and the next executor delivers them.

import { afterEach, describe, expect, it } from 'vitest';
import { acked, appliedProject, byKey, openState, sendLoad, sleep, startExec, startRecordingSink, until, webhookToSink, type Exec } from './harness.js';

const env = { ORGLOOP_CONCURRENCY: '2', ORGLOOP_PREFETCH: '3', ORGLOOP_LEASE_MS: '3000', ORGLOOP_CLAIM_POLL_MS: '100' };

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function statuses(dir: string) {
  const store = await openState(dir);
  try {
    return await store.deliveries({});
  } finally {
    await store.close();
  }
}

describe('prefetched deliveries', () => {
  it('wait leased (kept alive past the lease), run once each when slots free; the overflow queues in the store', async () => {
    const held: Array<() => void> = [];
    const sink = await startRecordingSink(() => new Promise((r) => held.push(() => r({ status: 200 }))));
    cleanup.push(() => sink.close());
    const dir = await appliedProject(webhookToSink(sink.url));
    const ex: Exec = await startExec(dir, env);
    cleanup.push(async () => void (await ex.stop()));

    const sent = await sendLoad(`${ex.url}/webhook/inbox`, 8, { prefix: 'p', concurrency: 1 });
    expect(acked(sent)).toHaveLength(8);
    await until(() => sink.hits.length === 2, 10_000, 'two deliveries running');

    const before = await statuses(dir);
    expect(before.filter((d) => d.status === 'leased')).toHaveLength(5); // 2 running + 3 waiting
    expect(before.filter((d) => d.status === 'pending')).toHaveLength(3);
    // past the 3 s lease: the waiting ones were extended with the running ones, nothing reclaimed
    await sleep(4000);
    const after = await statuses(dir);
    expect(after.filter((d) => d.status === 'leased').every((d) => d.attempts === 1 && d.lease_until! > Date.now())).toBe(true);
    expect(sink.hits).toHaveLength(2);

    sink.handler(() => ({ status: 200 }));
    for (const release of held.splice(0)) release();
    await until(async () => (await statuses(dir)).every((d) => d.status === 'delivered'), 15_000, 'all delivered');
    const seen = byKey(sink.hits);
    expect([...seen.keys()].sort()).toEqual(acked(sent).sort());
    expect([...seen.values()].every((h) => h.length === 1)).toBe(true);
  }, 40_000);

  it('kill -9 with deliveries waiting: the next executor delivers every acknowledged event', async () => {
    const sink = await startRecordingSink(() => new Promise(() => {})); // never answers
    cleanup.push(() => sink.close());
    const dir = await appliedProject(webhookToSink(sink.url));
    const first = await startExec(dir, env);
    const sent = await sendLoad(`${first.url}/webhook/inbox`, 8, { prefix: 'k', concurrency: 1 });
    expect(acked(sent)).toHaveLength(8);
    await until(() => sink.hits.length === 2, 10_000, 'two deliveries running');
    await first.kill9();

    sink.handler(() => ({ status: 200 }));
    const second = await startExec(dir, env);
    cleanup.push(async () => void (await second.stop()));
    await until(async () => (await statuses(dir)).every((d) => d.status === 'delivered'), 20_000, 'all delivered after restart');
    expect([...byKey(sink.hits).keys()].sort()).toEqual(acked(sent).sort());
  }, 40_000);
});
