// The observability queries against real stores: SQLite always, Postgres when
// ORGLOOP_TEST_PG_URL is set (each run in a schema of its own, dropped afterwards).

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../open.js';
import { ingestItem, tempStorePath } from '../sqlite/test-helpers/fixtures.js';
import { openQueries } from './queries.js';

const PG_URL = process.env.ORGLOOP_TEST_PG_URL;
const schema = `orgloop_queries_${process.pid}_${randomBytes(3).toString('hex')}`;

const backends: Array<{ name: string; location: () => string }> = [{ name: 'sqlite', location: tempStorePath }];
const schemas: string[] = [];
if (PG_URL) {
  backends.push({
    name: 'postgres',
    location: () => {
      const u = new URL(PG_URL);
      schemas.push(`${schema}_${schemas.length}`);
      u.searchParams.set('schema', schemas[schemas.length - 1]!);
      return u.toString();
    },
  });
}

afterAll(async () => {
  if (!PG_URL) return;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await c.end();
});

describe.each(backends)('runtime queries ($name)', ({ location }) => {
  it('reads the backlog per route, actor and status, expired leases, cursors and the store size', async () => {
    const loc = location();
    const store = await openStore(loc, { clock: () => 1_000_000 });
    await store.ingest([ingestItem({ routes: ['a', 'b'] }), ingestItem({ routes: ['a'] }), ingestItem({ routes: ['a'] })]);
    const [claimed] = await store.claim('w1', 1, 10_000);
    await store.fail(claimed!.id, 'w1', 'boom', 'dead');
    await store.claim('w1', 1, 10_000);
    await store.acquireLease('poll:github', 'w1', 10_000);
    const q = await openQueries(loc);
    try {
      const key = (r: { route: string; status: string }) => `${r.route}/${r.status}`;
      const rows = await q.backlog();
      // the same groups the store's own (full-scan) count gives, less delivered, with the actor
      const expected = (await store.deliveryCounts()).filter((r) => r.status !== 'delivered').map(({ oldest_created_at: _, ...r }) => r);
      expect(rows.map((r) => ({ route: r.route, status: r.status, count: r.count, oldest_run_at: r.oldest_run_at })).sort((x, y) => key(x).localeCompare(key(y)))).toEqual(
        expected.sort((x, y) => key(x).localeCompare(key(y))),
      );
      expect(rows.every((r) => r.actor === `actor-of-${r.route}`)).toBe(true);
      expect(rows.filter((r) => r.status === 'dead').map((r) => r.count)).toEqual([1]);
      // the counters give the same dead letters without reading them
      expect(await q.deadCounts()).toEqual(rows.filter((r) => r.status === 'dead').map((r) => ({ route: r.route, count: r.count })));
      expect(rows.reduce((n, r) => n + r.count, 0)).toBe(4);
      // masked ingress headers travel with the event to the console's reads, not to the Store's
      const withHeaders = ingestItem({ routes: [] });
      withHeaders.event.headers = JSON.stringify({ authorization: '[redacted]', 'x-request-id': 'r-1' });
      await store.ingest([withHeaders]);
      expect(JSON.parse((await q.event(withHeaders.event.id))!.headers!)).toEqual({ authorization: '[redacted]', 'x-request-id': 'r-1' });
      expect(await store.event(withHeaders.event.id)).not.toHaveProperty('headers');
      expect(await q.expiredLeases(1_000_000)).toBe(0);
      expect(await q.expiredLeases(1_000_000 + 10_001)).toBe(1);
      expect(await q.storeBytes()).toBeGreaterThan(0);
    } finally {
      await q.close();
      await store.close();
    }
  });

  it('pages events newest first, filters within a bounded window, reads a trace and pages dead letters', async () => {
    const loc = location();
    const store = await openStore(loc);
    const base = Date.now() - 10_000;
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const id = `evt_${(base + i).toString(36).padStart(9, '0')}${i.toString(16).padStart(16, '0')}`;
      ids.push(id);
      const item = ingestItem({ id, source: i % 2 ? 'odd' : 'even', routes: i % 3 === 0 ? ['r1'] : [] });
      item.event.event_json = JSON.stringify({ id, note: i === 5 ? '100% match_here' : 'plain' });
      item.event.trace_id = 'trace-x';
      item.deliveries = item.deliveries.map((d, j) => ({ ...d, id: `dlv_${(base + i).toString(36).padStart(9, '0')}${(i * 10 + j).toString(16).padStart(16, '0')}` }));
      await store.ingest([item]);
    }
    // r1 deliveries of events 0 and 3: both die
    for (const d of await store.claim('w', 10, 60_000)) await store.fail(d.id, 'w', 'boom', 'dead');
    const q = await openQueries(loc);
    try {
      const p1 = await q.events({}, null, 4);
      expect(p1.items.map((e) => e.id)).toEqual([ids[5], ids[4], ids[3], ids[2]]);
      const p2 = await q.events({}, p1.next, 4);
      expect(p2.items.map((e) => e.id)).toEqual([ids[1], ids[0]]);
      expect(p2.next).toBeNull();
      expect((await q.events({ source: 'odd' }, null, 10)).items.map((e) => e.id)).toEqual([ids[5], ids[3], ids[1]]);
      expect((await q.events({ route: 'r1', status: 'dead' }, null, 10)).items.map((e) => e.id)).toEqual([ids[3], ids[0]]);
      // LIKE wildcards in the text are taken literally
      expect((await q.events({ text: '100% match_' }, null, 10)).items.map((e) => e.id)).toEqual([ids[5]]);
      expect((await q.events({ text: '0%_m' }, null, 10)).items).toEqual([]);
      expect((await q.traceEvents('trace-x')).map((e) => e.id)).toEqual(ids);
      expect((await q.deliveriesOf([ids[0]!, ids[3]!])).map((d) => d.status)).toEqual(['dead', 'dead']);
      const d1 = await q.dead({}, null, 1);
      expect(d1.items).toHaveLength(1);
      const d2 = await q.dead({}, d1.next, 1);
      expect(d2.items).toHaveLength(1);
      expect(d2.items[0]!.id).not.toBe(d1.items[0]!.id);
      expect(d2.next).toBeNull();
      expect((await q.deadIds({ route: 'r1' }, 10)).sort()).toEqual([d1.items[0]!.id, d2.items[0]!.id].sort());
      expect(await q.recentEvents(`evt_${(base - 1).toString(36).padStart(9, '0')}`)).toEqual(expect.arrayContaining([{ source: 'odd', count: 3 }, { source: 'even', count: 3 }]));
      // redrive under another version
      expect(await store.redrive(d1.items[0]!.id, 7)).toBe(true);
      expect(await store.delivery(d1.items[0]!.id)).toMatchObject({ status: 'pending', state_serial: 7, attempts: 0 });
    } finally {
      await q.close();
      await store.close();
    }
  });
});
