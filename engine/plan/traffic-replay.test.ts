// Stored events replayed on both backends: `test --from-store`'s report (engine/plan/traffic-test.ts)
// and a route backfill (engine/run/backfill.ts) that adds each delivery once, claimable by an
// executor. SQLite always; Postgres when ORGLOOP_TEST_PG_URL is set.

import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../state/open.js';
import type { StateSnapshot } from '../graph/types.js';
import { applyPlan } from '../apply/apply.js';
import { backfillRoute } from '../run/backfill.js';
import { DEFAULT_MAX_HOPS } from '../run/graph.js';
import { planAgainstStore } from './plan.js';
import { toSnapshot } from './snapshot.js';
import { testFromStore } from './traffic-test.js';
import { trafficRoutes } from './traffic-transforms.js';
import { projectOf, testKey, type MiniProject } from './test-helpers/project.js';

const PG_URL = process.env.ORGLOOP_TEST_PG_URL;
const run = `orgloop_replay_${process.pid}_${randomBytes(3).toString('hex')}`;
const schemas: string[] = [];
const hints = { sensitive: () => undefined, replaceOn: () => undefined };
const snap = (p: MiniProject): StateSnapshot => toSnapshot(projectOf(p), { salt: 's', key: testKey }).snapshot;
const NOW = Date.now();
const MIN = 60_000;

const v1: MiniProject = {
  sources: [{ id: 'github' }],
  actors: [{ id: 'eng' }, { id: 'ops' }],
  routes: [{ name: 'prs', source: 'github', actor: 'eng', filter: { 'provenance.platform_event': 'pull_request' } }],
};
const v2: MiniProject = {
  ...v1,
  transforms: [{ name: 'bots-out', type: 'filter', config: { exclude: { 'payload.sender': '/\\[bot\\]$/' } } }],
  routes: [
    ...v1.routes!,
    { name: 'pages', source: 'github', actor: 'ops', filter: { 'provenance.platform_event': 'issues' }, transforms: ['bots-out'] },
    { name: 'loop', source: 'eng', actor: 'ops', events: ['actor.stopped'] },
  ],
};

let n = 0;
function event(source: string, type: string, platformEvent: string | null, sender: string, ageMs: number, hops = 0) {
  const id = `evt_r${String(++n).padStart(5, '0')}`;
  const received_at = new Date(NOW - ageMs).toISOString();
  const e = { id, source, type, time: received_at, hops, trace_id: id, parent_id: null, provenance: { platform: source, ...(platformEvent ? { platform_event: platformEvent } : {}) }, payload: { sender } };
  return { event: { id, source, type, dedupe_key: id, event_json: JSON.stringify(e), trace_id: id, parent_id: null, hops, received_at }, deliveries: [] };
}

async function check(location: string): Promise<void> {
  const store = await openStore(location);
  try {
    await applyPlan(store, await planAgainstStore(store, snap(v1), {}, { hints }), { who: 't' });
    await store.ingest([
      event('github', 'resource.changed', 'pull_request', 'alice', 50 * MIN),
      event('github', 'resource.changed', 'issues', 'alice', 40 * MIN),
      event('github', 'resource.changed', 'issues', 'renovate[bot]', 30 * MIN),
      event('github', 'resource.changed', 'issues', 'bob', 20 * MIN),
      event('github', 'resource.changed', 'push', 'bob', 15 * MIN),
      event('eng', 'actor.stopped', null, 'eng', 10 * MIN, 3),
      event('eng', 'actor.stopped', null, 'eng', 9 * MIN, 9), // deeper than max_hops 8
      event('github', 'resource.changed', 'issues', 'carol', 3 * 24 * 60 * MIN), // outside 24h
    ]);

    // test --from-store through v2, the last 24 hours
    const routes = trafficRoutes(Object.values(snap(v2).resources).map((r) => ({ kind: r.kind, name: r.name, provider: r.provider, spec: r.attributes as Record<string, any> })), DEFAULT_MAX_HOPS);
    const window = { since: new Date(NOW - 24 * 60 * MIN).toISOString(), until: new Date(NOW + 1).toISOString() };
    const report = await testFromStore(store, routes, window);
    expect(report.events).toBe(7);
    expect(report.routes.map((r) => [r.route, r.matched, r.would_deliver, r.dropped, r.loop_cut])).toEqual([
      ['loop', 2, 1, 0, 1],
      ['pages', 3, 2, 1, 0],
      ['prs', 1, 1, 0, 0],
    ]);
    expect(report.routes[1]!.transforms).toEqual([{ transform: 'bots-out', type: 'filter', evaluated: true, decisions: { pass: 2, drop: 1, error: 0, not_evaluated: 0 } }]);
    expect(report.unmatched).toEqual([{ source: 'github', event: 'push', count: 1 }]);
    const one = await testFromStore(store, routes, { ...window, route: 'pages' });
    expect(one.events).toBe(5);
    expect(one.routes.map((r) => r.route)).toEqual(['pages']);
    const eng = await testFromStore(store, routes, { ...window, source: 'eng' });
    expect(eng.routes.map((r) => r.route)).toEqual(['loop']);

    // backfill: the route must be applied first; then each matching event once
    await expect(backfillRoute(store, 'pages', window.since)).rejects.toThrow('route "pages" is not in the applied version 1');
    await applyPlan(store, await planAgainstStore(store, snap(v2), {}, { hints }), { who: 't' });
    const first = await backfillRoute(store, 'pages', window.since);
    expect(first).toMatchObject({ route: 'pages', actor: 'ops', serial: 2, events: 5, matched: 3, loop_cut: 0, added: 3, existing: 0 });
    const second = await backfillRoute(store, 'pages', window.since);
    expect(second).toMatchObject({ matched: 3, added: 0, existing: 3 });
    const loop = await backfillRoute(store, 'loop', window.since);
    expect(loop).toMatchObject({ events: 2, matched: 2, loop_cut: 1, added: 1 });
    const rows = await store.deliveries({ route: 'pages' });
    expect(rows.map((d) => [d.status, d.state_serial, d.actor, d.attempts])).toEqual(Array(3).fill(['pending', 2, 'ops', 0]));
    // an executor claims them like any delivery (its transforms run then)
    const claimed = await store.claim('ex-1', 10, 60_000);
    expect(claimed.map((d) => d.route).sort()).toEqual(['loop', 'pages', 'pages', 'pages']);
    const counts = await store.deliveryCounts();
    expect(counts.filter((c) => c.route === 'pages').map((c) => [c.status, c.count])).toEqual([['leased', 3]]);
    const log = await store.logs({ route: 'pages' });
    expect(log.map((l) => l.phase)).toEqual(['route.backfill']);
  } finally {
    await store.close();
  }
}

describe('replaying stored events', () => {
  it('reports test --from-store and backfills a route once (SQLite)', async () => {
    await check(join(mkdtempSync(join(tmpdir(), 'orgloop-replay-')), 'state.db'));
  });

  describe.skipIf(!PG_URL)('on Postgres', () => {
    afterAll(async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      await c.end();
    });
    it('does the same', async () => {
      const schema = `${run}_${schemas.length}`;
      schemas.push(schema);
      const u = new URL(PG_URL!);
      u.searchParams.set('schema', schema);
      await check(u.toString());
    });
  });
});
