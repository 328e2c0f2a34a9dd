// Scenarios 1 and 2: kill -9 of the executor while it accepts and delivers, and kill -9 after the
// actor answered 2xx but before the delivery was marked. Invariants are checked on what the
// sink received and on the store afterwards.

import { afterEach, describe, expect, it } from 'vitest';
import {
  acked,
  appliedProject,
  byKey,
  sendLoad,
  sleep,
  snapshot,
  startExec,
  startRecordingSink,
  until,
  webhookToSink,
  type Exec,
} from './harness.js';

const LEASE_MS = 1500;
const ENV = { ORGLOOP_LEASE_MS: String(LEASE_MS), ORGLOOP_BACKOFF_BASE_MS: '50' };

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => {});
});

async function exec(dir: string): Promise<Exec> {
  const ex = await startExec(dir, ENV);
  cleanup.push(() => ex.kill9());
  return ex;
}

describe('reliability: kill -9 of the executor', () => {
  it('scenario 1: every 2xx-answered webhook is delivered at least once after a kill -9 mid-load; duplicates share the webhook-id; no lease is left', async () => {
    // the actor is slowish, so deliveries are in flight when the executor dies
    const sink = await startRecordingSink(async () => {
      await sleep(5 + Math.floor(Math.random() * 30));
      return { status: 200 };
    });
    cleanup.push(sink.close);
    const dir = await appliedProject(webhookToSink(sink.url));

    const first = await exec(dir);
    const url1 = `${first.url}/webhook/inbox`;
    let killed = false;
    // kill while the load is being accepted and the sink is receiving
    const killer = (async () => {
      await until(() => sink.hits.length >= 40, 20_000, 'deliveries before the kill');
      await first.kill9();
      killed = true;
    })();
    const phase1 = await sendLoad(url1, 400, { prefix: 'a', concurrency: 12, stop: () => killed });
    await killer;
    const ackedBeforeKill = acked(phase1);
    expect(ackedBeforeKill.length).toBeGreaterThan(0);
    // The executor died with work in flight: a request answered after the kill is impossible.
    expect(phase1.some((s) => s.status === 0) || phase1.length < 400).toBe(true);

    const second = await exec(dir);
    const phase2 = await sendLoad(`${second.url}/webhook/inbox`, 100, { prefix: 'b', concurrency: 8 });
    const all = [...ackedBeforeKill, ...acked(phase2)];
    expect(acked(phase2)).toHaveLength(100);

    // every acknowledged webhook arrives at the actor
    await until(() => all.every((k) => byKey(sink.hits).has(k)), 30_000, 'every acknowledged webhook delivered');
    // and the store settles: nothing pending, leased or retrying once leases have run out
    await until(
      async () => {
        const s = await snapshot(dir);
        return s.deliveries.every((d) => d.status === 'delivered') ? s : null;
      },
      20_000,
      'all deliveries delivered',
    );
    const { events, deliveries } = await snapshot(dir);
    const hits = byKey(sink.hits);
    for (const [key, list] of hits) {
      // duplicates (redeliveries after the crash) carry the same webhook-id: one delivery per event
      expect(new Set(list.map((h) => h.webhookId)).size, `webhook-ids for ${key}`).toBe(1);
    }
    // one event per key that reached the store, one delivery per event, and each delivery id is
    // the webhook-id the actor saw
    const keys = events.map((e) => (JSON.parse(e.event_json) as { payload: { id: string } }).payload.id);
    expect(new Set(keys).size).toBe(keys.length);
    expect(deliveries).toHaveLength(events.length);
    expect(new Set(sink.hits.map((h) => h.webhookId))).toEqual(new Set(deliveries.map((d) => d.id)));
    for (const k of all) expect(keys).toContain(k);
    expect(deliveries.filter((d) => d.status === 'leased')).toEqual([]);
  });

  it('scenario 2: kill -9 after the actor answered 2xx but before the delivery was marked gives exactly one redelivery with the same webhook-id', async () => {
    let victim: Exec | null = null;
    let frozen = false;
    const sink = await startRecordingSink((hit, res) => {
      if (hit.key !== 'fatal' || frozen || !victim) return { status: 200 };
      frozen = true;
      // Freeze the executor, answer 2xx (the actor has done its work), then kill it: the
      // answer is in its socket buffer but it can never record the completion.
      process.kill(victim.pid, 'SIGSTOP');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}', () => {
        process.kill(victim!.pid, 'SIGKILL');
      });
      return 'handled';
    });
    cleanup.push(sink.close);
    const dir = await appliedProject(webhookToSink(sink.url));

    victim = await exec(dir);
    const res = await fetch(`${victim.url}/webhook/inbox`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'fatal', type: 'test' }),
    });
    expect(res.status).toBe(202);
    await new Promise<void>((r) => (victim!.proc.signalCode ? r() : victim!.proc.once('exit', () => r())));
    expect(victim.proc.signalCode).toBe('SIGKILL');

    // the crash left the delivery leased, not delivered
    const before = await snapshot(dir);
    expect(before.deliveries).toHaveLength(1);
    expect(before.deliveries[0]).toMatchObject({ status: 'leased', attempts: 1 });

    const next = await exec(dir);
    await until(async () => (await snapshot(dir)).deliveries[0]?.status === 'delivered', 20_000, 'redelivery completed');
    // a later event passes through too, which proves the executor has moved past the redelivery
    const after = await fetch(`${next.url}/webhook/inbox`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'later', type: 'test' }),
    });
    expect(after.status).toBe(202);
    await until(() => byKey(sink.hits).has('later'), 10_000, 'later event delivered');
    await sleep(LEASE_MS + 500); // long enough for a wrongly left lease to expire and be retried

    const fatal = byKey(sink.hits).get('fatal')!;
    expect(fatal).toHaveLength(2);
    expect(fatal[0]!.webhookId).toBe(fatal[1]!.webhookId);
    expect(fatal[0]!.webhookId).toBe(before.deliveries[0]!.id);
    expect(fatal.map((h) => h.attempt)).toEqual([1, 2]);
    const { deliveries } = await snapshot(dir);
    expect(deliveries.find((d) => d.id === fatal[0]!.webhookId)).toMatchObject({ status: 'delivered', attempts: 2 });
  });
});
