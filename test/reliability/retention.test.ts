// Issue 17.12: nothing was ever pruned. With a short event_retention, finished deliveries, their
// events and log rows leave the store while the executor runs; work still pending (an actor
// answering 503 with a long Retry-After) keeps its deliveries and events.

import { afterEach, describe, expect, it } from 'vitest';
import { appliedProject, openState, postJson, startExec, startRecordingSink, until, type Exec } from './harness.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => {});
});

describe('reliability: retention', () => {
  it('finished deliveries, their events and log rows are pruned after event_retention; pending work never is', async () => {
    const sink = await startRecordingSink((hit) =>
      hit.body?.event?.source === 'stuck' ? { status: 503, headers: { 'retry-after': '3600' } } : { status: 200 },
    );
    cleanup.push(sink.close);
    const dir = await appliedProject(`
defaults:
  event_retention: 1s
sources:
  - id: inbox
    connector: webhook
  - id: stuck
    connector: webhook
actors:
  - id: sink
    connector: webhook
    config:
      url: ${sink.url}/deliver
routes:
  - name: ok
    when: { source: inbox }
    then: { actor: sink }
  - name: waits
    when: { source: stuck }
    then: { actor: sink }
`);
    const ex: Exec = await startExec(dir, { ORGLOOP_LOG_LEVEL: 'warn' });
    cleanup.push(() => ex.kill9());
    const store = await openState(dir);
    cleanup.push(() => store.close());

    for (let i = 0; i < 20; i++) expect((await postJson(`${ex.url}/webhook/inbox`, { id: `ok-${i}` })).status).toBe(202);
    for (let i = 0; i < 3; i++) expect((await postJson(`${ex.url}/webhook/stuck`, { id: `stuck-${i}` })).status).toBe(202);
    await until(async () => (await store.deliveries({ route: 'waits', status: 'retry' })).length === 3 || null, 15_000, 'the stuck deliveries to wait for a retry');
    expect((await store.events({ source: 'inbox' })).length).toBe(20);

    // the executor prunes on its own: wait until the finished work is gone
    await until(
      async () => ((await store.events({ source: 'inbox' })).length === 0 && (await store.deliveries({ route: 'ok' })).length === 0) || null,
      20_000,
      'the finished deliveries and their events to be pruned',
    );
    const inboxLogs = (await store.logs({ route: 'ok' })).filter((l) => l.phase.startsWith('deliver'));
    await until(async () => (await store.logs({ route: 'ok' })).length === 0 || null, 10_000, `log rows of pruned deliveries to go (${inboxLogs.length} left)`);

    // pending work stays, with its events, and the counts say so without the pruned rows
    expect((await store.events({ source: 'stuck' })).length).toBe(3);
    expect((await store.deliveries({ route: 'waits' })).map((d) => d.status)).toEqual(['retry', 'retry', 'retry']);
    expect((await store.deliveryCounts()).map((c) => [c.route, c.status, c.count])).toEqual([['waits', 'retry', 3]]);
  });
});
