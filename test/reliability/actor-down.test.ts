// Scenario 5: the actors are down for 20 s, then return. One is really gone (connection refused),
// the other answers 503 with Retry-After: 2. Everything is delivered once they are back; the
// attempts in between are few (backoff, no hot loop) and Retry-After is respected.
// The route's `delivery.backoff` sets the backoff base (300 ms here, so the suite stays short);
// ORGLOOP_BACKOFF_CAP_MS caps single delays at 4 s.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { acked, appliedProject, sendLoad, snapshot, startExec, startRecordingSink, until, type Exec } from './harness.js';

const DOWN_MS = 20_000;
const RETRY_AFTER_S = 2;

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => {});
});

/** A port with nothing listening (yet): reserved by listening once, then closed. */
async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('reliability: actor down for 20 s (scenario 5)', () => {
  it('delivers everything after the actors return, with bounded attempts and Retry-After respected', async () => {
    const downUntil = Date.now() + DOWN_MS + 3000; // + executor start-up
    const busy = await startRecordingSink(() =>
      Date.now() < downUntil ? { status: 503, headers: { 'retry-after': String(RETRY_AFTER_S) } } : { status: 200 },
    );
    cleanup.push(busy.close);
    const gonePort = await freePort();
    const dir = await appliedProject(`
sources:
  - id: to-gone
    connector: webhook
  - id: to-busy
    connector: webhook
actors:
  - id: gone
    connector: webhook
    config: { url: "http://127.0.0.1:${gonePort}/deliver" }
  - id: busy
    connector: webhook
    config: { url: "${busy.url}/deliver" }
routes:
  - name: gone
    when: { source: to-gone }
    then: { actor: gone }
    delivery: { max_attempts: 100, backoff: 300ms }
  - name: busy
    when: { source: to-busy }
    then: { actor: busy }
    delivery: { max_attempts: 100, backoff: 300ms }
`);
    const ex: Exec = await startExec(dir, { ORGLOOP_BACKOFF_BASE_MS: undefined, ORGLOOP_BACKOFF_CAP_MS: '4000' });
    cleanup.push(() => ex.kill9());

    const [g, b] = await Promise.all([
      sendLoad(`${ex.url}/webhook/to-gone`, 10, { prefix: 'g', concurrency: 5 }),
      sendLoad(`${ex.url}/webhook/to-busy`, 10, { prefix: 'b', concurrency: 5 }),
    ]);
    expect(acked(g)).toHaveLength(10);
    expect(acked(b)).toHaveLength(10);

    // the gone actor comes back on its port when the outage ends
    await until(() => Date.now() >= downUntil, DOWN_MS + 5000, 'outage over');
    const revived = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        revivedHits.push({ id: String(req.headers['webhook-id']), at: Date.now() });
        res.writeHead(200).end('{}');
      });
    });
    const revivedHits: Array<{ id: string; at: number }> = [];
    await new Promise<void>((r) => revived.listen(gonePort, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => revived.close(() => r())));

    const settled = await until(
      async () => {
        const s = await snapshot(dir);
        return s.deliveries.length === 20 && s.deliveries.every((d) => d.status === 'delivered') ? s : null;
      },
      20_000,
      'everything delivered after the actors returned',
    );

    for (const d of settled.deliveries) {
      // A hot loop (claim poll every 50 ms) would make ~400 attempts in 20 s. Backoff from 300 ms,
      // doubling, capped at 4 s, with full jitter, makes about a dozen; Retry-After: 2 at most 12.
      expect(d.attempts, `${d.route} ${d.id}`).toBeGreaterThanOrEqual(2);
      expect(d.attempts, `${d.route} ${d.id}`).toBeLessThanOrEqual(d.route === 'busy' ? 13 : 30);
    }
    expect(new Set(revivedHits.map((h) => h.id))).toEqual(new Set(settled.deliveries.filter((d) => d.route === 'gone').map((d) => d.id)));

    // Retry-After: consecutive attempts of one delivery are at least 2 s apart while it is sent
    for (const d of settled.deliveries.filter((x) => x.route === 'busy')) {
      const times = busy.hits.filter((h) => h.webhookId === d.id).map((h) => h.at);
      expect(times.length).toBe(d.attempts);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!, `gap ${i} of ${d.id}`).toBeGreaterThanOrEqual(RETRY_AFTER_S * 1000 - 50);
    }
    expect(ex.output()).toMatch(/deliver\.retry .*connect ECONNREFUSED|deliver\.retry .*ECONNREFUSED/);
  });

  it("a route's delivery.backoff sets its retry delay (it used to be validated and then ignored)", async () => {
    const sink = await startRecordingSink(() => ({ status: 500 }));
    cleanup.push(sink.close);
    const dir = await appliedProject(`
sources:
  - id: inbox
    connector: webhook
actors:
  - id: failing
    connector: webhook
    config: { url: "${sink.url}/deliver" }
routes:
  - name: slow-retry
    when: { source: inbox }
    then: { actor: failing }
    delivery: { backoff: 1h }
`);
    // the executor-wide default is 20 ms here (ORGLOOP_BACKOFF_BASE_MS from the harness)
    const ex = await startExec(dir);
    cleanup.push(() => ex.kill9());
    expect(acked(await sendLoad(`${ex.url}/webhook/inbox`, 1, { prefix: 'r' }))).toHaveLength(1);
    const d = await until(async () => (await snapshot(dir)).deliveries.find((x) => x.status === 'retry'), 10_000, 'first failure');
    // full jitter over [0, 1 h]: the next attempt is (all but surely) more than a second away
    expect(d.run_at - Date.parse(d.updated_at)).toBeGreaterThan(1000);
    expect(d.run_at - Date.parse(d.updated_at)).toBeLessThanOrEqual(3_600_000);
    expect(sink.hits).toHaveLength(1);
  });
});
