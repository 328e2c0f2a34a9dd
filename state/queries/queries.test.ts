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
if (PG_URL) {
  const u = new URL(PG_URL);
  u.searchParams.set('schema', schema);
  backends.push({ name: 'postgres', location: () => u.toString() });
}

afterAll(async () => {
  if (!PG_URL) return;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
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
      const expected = (await store.deliveryCounts()).filter((r) => r.status !== 'delivered');
      expect(rows.map((r) => ({ route: r.route, status: r.status, count: r.count, oldest_run_at: r.oldest_run_at })).sort((x, y) => key(x).localeCompare(key(y)))).toEqual(
        expected.sort((x, y) => key(x).localeCompare(key(y))),
      );
      expect(rows.every((r) => r.actor === `actor-of-${r.route}`)).toBe(true);
      expect(rows.filter((r) => r.status === 'dead').map((r) => r.count)).toEqual([1]);
      expect(rows.reduce((n, r) => n + r.count, 0)).toBe(4);
      expect(await q.expiredLeases(1_000_000)).toBe(0);
      expect(await q.expiredLeases(1_000_000 + 10_001)).toBe(1);
      expect(await q.storeBytes()).toBeGreaterThan(0);
    } finally {
      await q.close();
      await store.close();
    }
  });
});
