// Scenario 3: kill -9 while the github polling source is mid-poll (requests in flight at the fake
// GitHub, through a proxy that holds them): the cursor and the events move together, nothing is
// skipped, nothing is doubled after dedupe.
// Scenario 6: two executors on one store: every delivery is completed exactly once (fenced), and
// the polling source is polled by one of them at a time (requests never overlap at the server).

import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeGithub, type FakeGithub } from '../fakes/github.js';
import {
  acked,
  appliedProject,
  sendLoad,
  sleep,
  snapshot,
  startExec,
  startProxy,
  startRecordingSink,
  statePath,
  until,
  type Exec,
} from './harness.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => {});
});

const ENV = { ORGLOOP_LEASE_MS: '1500', ORGLOOP_POLL_LEASE_MS: '2000', GITHUB_TOKEN: 'gh-tok' };

function project(apiUrl: string, sinkUrl: string): string {
  return `
sources:
  - id: gh
    connector: github
    poll: { interval: 1s }
    config:
      repo: acme/api
      token: "\${GITHUB_TOKEN}"
      base_url: ${apiUrl}
      events: [pull_request.opened]
      initial_lookback: 1h
  - id: inbox
    connector: webhook
actors:
  - id: sink
    connector: webhook
    config: { url: ${sinkUrl}/deliver }
routes:
  - name: prs
    when: { source: gh }
    then: { actor: sink }
  - name: inbox
    when: { source: inbox }
    then: { actor: sink }
`;
}

async function setup() {
  const gh: FakeGithub = await startFakeGithub({ token: 'gh-tok' });
  cleanup.push(() => gh.close());
  const proxy = await startProxy(gh.url);
  cleanup.push(proxy.close);
  const sink = await startRecordingSink();
  cleanup.push(sink.close);
  const dir = await appliedProject(project(proxy.url, sink.url), { '.env': 'GITHUB_TOKEN=gh-tok\n' });
  return { gh, proxy, sink, dir };
}

async function exec(dir: string, env: NodeJS.ProcessEnv = {}): Promise<Exec> {
  const ex = await startExec(dir, { ...ENV, ...env });
  cleanup.push(() => ex.kill9());
  return ex;
}

async function pollState(dir: string) {
  const { events } = await snapshot(dir);
  const db = new Database(statePath(dir), { readonly: true });
  try {
    const row = db.prepare("SELECT cursor FROM cursors WHERE source = 'gh'").get() as { cursor: string } | undefined;
    return { cursor: row?.cursor ?? null, keys: events.filter((e) => e.source === 'gh').map((e) => e.dedupe_key!).sort() };
  } finally {
    db.close();
  }
}

const prKeys = (s: { keys: string[] }) => s.keys.length;

describe('reliability: polling sources under kill -9 and with two executors', () => {
  it('scenario 3: a kill -9 mid-poll commits neither cursor nor events; after restart every PR is an event exactly once', async () => {
    const { gh, proxy, sink, dir } = await setup();
    let n = 0;
    const addPrs = (count: number) => {
      for (let i = 0; i < count; i++) gh.addPull('acme/api', { number: ++n, title: `PR ${n}` });
    };
    addPrs(3);
    let ex = await exec(dir);
    await until(async () => prKeys(await pollState(dir)) === 3, 15_000, 'first 3 PRs');

    // Two kinds of kill: while the /pulls request is held at the server, and right after its
    // answer was handed to the executor (so the kill may land before, during or after commit).
    for (const when of ['request held', 'answer relayed'] as const) {
      addPrs(3);
      let before: Awaited<ReturnType<typeof pollState>> | null = null;
      const victim = ex;
      const killed = new Promise<void>((resolve) => {
        proxy.hook(async (method, path) => {
          if (!path.includes('/pulls')) return;
          proxy.hook(() => {});
          before = await pollState(dir);
          if (when === 'request held') {
            await victim.kill9();
            resolve();
          } else {
            setImmediate(() => void victim.kill9().then(resolve));
          }
        });
      });
      await killed;
      const after = await pollState(dir);
      // cursor and events move together: both unchanged, or both advanced
      const cursorMoved = after.cursor !== before!.cursor;
      const eventsAdded = after.keys.length !== before!.keys.length;
      expect(cursorMoved, `${when}: cursor moved ${cursorMoved}, events added ${eventsAdded}`).toBe(eventsAdded);
      if (when === 'request held') expect(after).toEqual(before);
      if (eventsAdded) expect(after.keys.length).toBe(n);
      ex = await exec(dir);
    }
    addPrs(2);
    await until(async () => prKeys(await pollState(dir)) === n, 15_000, `all ${n} PRs`);
    // a couple more polls, which see every PR again (overlap) and must dedupe: polls of a source
    // run one after another, so once a third /pulls request is answered the two before it committed
    const pulls = () => gh.state.requests.filter((r) => r.path.includes('/pulls')).length;
    const seen = pulls();
    await until(() => pulls() >= seen + 3, 15_000, 'three more polls');
    const final = await pollState(dir);
    expect(final.keys).toHaveLength(n);
    expect(new Set(final.keys).size).toBe(n);
    const { deliveries, events } = await snapshot(dir);
    const ghEvents = events.filter((e) => e.source === 'gh');
    expect(ghEvents.map((e) => (JSON.parse(e.event_json) as { payload: { number: number } }).payload.number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: n }, (_, i) => i + 1),
    );
    await until(() => new Set(sink.hits.map((h) => h.webhookId)).size >= n, 15_000, 'PR deliveries');
    const ghDeliveries = deliveries.filter((d) => d.route === 'prs');
    expect(ghDeliveries).toHaveLength(n);
    for (const d of ghDeliveries) expect(sink.hits.some((h) => h.webhookId === d.id)).toBe(true);
  });

  it('scenario 6: two executors on one store complete every delivery once and never poll the source at the same time', async () => {
    const { gh, proxy, sink, dir } = await setup();
    // every request to the fake GitHub takes a while, so overlapping polls could not hide
    proxy.hook(async () => {
      await sleep(150);
    });
    for (let i = 1; i <= 5; i++) gh.addPull('acme/api', { number: i });
    // no crash here: a normal delivery lease, so a busy machine cannot expire one mid-delivery
    const a = await exec(dir, { ORGLOOP_LEASE_MS: '30000' });
    const b = await exec(dir, { ORGLOOP_LEASE_MS: '30000' });

    const [la, lb] = await Promise.all([
      sendLoad(`${a.url}/webhook/inbox`, 150, { prefix: 'a', concurrency: 6 }),
      sendLoad(`${b.url}/webhook/inbox`, 150, { prefix: 'b', concurrency: 6 }),
    ]);
    expect(acked(la)).toHaveLength(150);
    expect(acked(lb)).toHaveLength(150);
    await until(async () => (await pollState(dir)).keys.length === 5, 15_000, 'PRs polled');
    // several poll rounds while both executors compete for the source
    await until(() => proxy.requests.length >= 5, 15_000, 'five polls');

    const holder = () => {
      const db = new Database(statePath(dir), { readonly: true });
      try {
        return (db.prepare("SELECT holder FROM leases WHERE name = 'source:gh'").get() as { holder: string }).holder;
      } finally {
        db.close();
      }
    };
    // the lease holder stops gracefully: the other executor takes the source over
    const first = holder();
    const [stopping, staying] = a.output().includes(first) ? [a, b] : [b, a];
    await stopping.stop();
    for (let i = 6; i <= 8; i++) gh.addPull('acme/api', { number: i });
    await until(async () => (await pollState(dir)).keys.length === 8, 15_000, 'PRs polled by the other executor');
    expect(staying.output()).toContain(holder());
    expect(holder()).not.toBe(first);
    const handover = proxy.requests.length;
    await until(() => proxy.requests.length >= handover + 2, 15_000, 'polls after the handover');

    await until(
      async () => {
        const s = await snapshot(dir);
        return s.deliveries.length === 308 && s.deliveries.every((d) => d.status === 'delivered');
      },
      20_000,
      'every delivery delivered',
    );
    const { deliveries } = await snapshot(dir);
    // each delivery reached the actor exactly once: no two executors ran the same one
    const seen = new Map<string, number>();
    for (const h of sink.hits) seen.set(h.webhookId, (seen.get(h.webhookId) ?? 0) + 1);
    for (const d of deliveries) expect(seen.get(d.id), d.id).toBe(1);
    expect(deliveries.every((d) => d.attempts === 1)).toBe(true);
    // both executors did part of the work
    expect(a.output()).toMatch(/deliver\.success/);
    expect(b.output()).toMatch(/deliver\.success/);
    // polls never overlapped at the server, across both executors and the handover
    expect(proxy.requests.length).toBeGreaterThanOrEqual(8);
    expect(proxy.maxInFlight()).toBe(1);
  });
});
