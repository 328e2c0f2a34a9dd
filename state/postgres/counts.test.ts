// The delivery counters under concurrency (migration 010), against a real Postgres when
// ORGLOOP_TEST_PG_URL is set. Migration 003 shared a counter shard between connections whose
// pids were equal modulo 64, and a claim and a completion bumping the same routes in opposite
// orders deadlocked. Now each connection writes its own shard and the pruner folds the shards
// of closed connections.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../open.js';
import type { Store } from '../store.js';
import { ingestItem } from '../sqlite/test-helpers/fixtures.js';

const PG_URL = process.env.ORGLOOP_TEST_PG_URL;
const run = `orgloop_counts_${process.pid}_${randomBytes(3).toString('hex')}`;
const schemas: string[] = [];
const ROUTES = ['r1', 'r2', 'r3', 'r4', 'r5'];

function newUrl(): string {
  const schema = `${run}_${schemas.length}`;
  schemas.push(schema);
  const u = new URL(PG_URL!);
  u.searchParams.set('schema', schema);
  return u.toString();
}

async function client(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${new URL(url).searchParams.get('schema')}` });
  await c.connect();
  return c;
}

/** The counts as the deliveries table has them, in deliveryCounts' order. */
async function actual(c: pg.Client): Promise<Array<[string, string, number]>> {
  const r = await c.query('SELECT route, status, COUNT(*)::int AS n FROM deliveries GROUP BY 1, 2 ORDER BY 1, 2');
  return r.rows.map((x: { route: string; status: string; n: number }) => [x.route, x.status, x.n]);
}

async function counted(s: Store): Promise<Array<[string, string, number]>> {
  return (await s.deliveryCounts()).map((x) => [x.route, x.status, x.count]);
}

describe.skipIf(!PG_URL)('postgres delivery counters', () => {
  afterAll(async () => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await c.end();
  });

  it('two open transactions bumping the same counters in opposite orders neither wait nor deadlock', async () => {
    const url = newUrl();
    const s = await openStore(url);
    await s.ingest(Array.from({ length: 4 }, () => ingestItem({ routes: ['r1', 'r2'] })));
    const [a, b] = [await client(url), await client(url)];
    try {
      const ids = async (route: string) => (await a.query('SELECT id FROM deliveries WHERE route = $1 ORDER BY id', [route])).rows.map((x: { id: string }) => x.id);
      const [r1, r2] = [await ids('r1'), await ids('r2')];
      const shards = async (c: pg.Client) => (await c.query('SELECT DISTINCT shard FROM delivery_counts ORDER BY 1')).rows.map((x: { shard: number }) => Number(x.shard));
      const pid = async (c: pg.Client) => (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p as number;
      const committed = await shards(a);
      const done = `UPDATE deliveries SET status = 'delivered' WHERE id = $1`;
      for (const c of [a, b]) {
        await c.query('BEGIN');
        // a wait on a counter row fails here instead of hanging the test
        await c.query(`SET LOCAL lock_timeout = '10s'`);
      }
      await a.query(done, [r1[0]]);
      await b.query(done, [r2[0]]);
      await a.query(done, [r2[1]]);
      await b.query(done, [r1[1]]);
      // each has written a shard of its own, which the other does not see yet: no counter row is shared
      const mine = async (c: pg.Client) => (await shards(c)).filter((x) => !committed.includes(x));
      expect(await mine(a)).toEqual([await pid(a)]);
      expect(await mine(b)).toEqual([await pid(b)]);
      await a.query('COMMIT');
      await b.query('COMMIT');
      expect(await counted(s)).toEqual(await actual(a));
    } finally {
      await a.end();
      await b.end();
      await s.close();
    }
  });

  it('three stores ingesting, claiming, retrying and completing at once over five routes: no error, counts exact, and exact after folding', async () => {
    const url = newUrl();
    const stores = await Promise.all([1, 2, 3].map(() => openStore(url)));
    const c = await client(url);
    try {
      const EVENTS = 240;
      const owners = new Map<string, string>();
      let ingested = 0;
      const ingester = async (s: Store) => {
        while (ingested < EVENTS) {
          ingested += 8;
          await s.ingest(Array.from({ length: 8 }, () => ingestItem({ routes: ROUTES })));
        }
      };
      const worker = async (s: Store, owner: string) => {
        for (let idle = 0; idle < 3; ) {
          const batch = await s.claim(owner, 7, 60_000);
          if (batch.length === 0) {
            idle += ingested >= EVENTS ? 1 : 0;
            await new Promise((r) => setTimeout(r, 20));
            continue;
          }
          idle = 0;
          await Promise.all(
            batch.map(async (d) => {
              // every third first attempt fails and is retried at once, by whoever claims it next
              if (d.attempts === 1 && d.id.charCodeAt(0) % 3 === 0) expect(await s.fail(d.id, owner, 'again', { runAt: 0 })).toBe(true);
              else {
                expect(owners.has(d.id)).toBe(false);
                owners.set(d.id, owner);
                expect(await s.complete(d.id, owner)).toBe(true);
              }
            }),
          );
        }
      };
      await Promise.all([
        ...stores.map(ingester),
        ...stores.flatMap((s, i) => [0, 1, 2, 3].map((j) => worker(s, `w${i}.${j}`))),
      ]);
      const total = Math.ceil(EVENTS / 8) * 8 * ROUTES.length;
      expect(owners.size).toBe(total);
      expect(await actual(c)).toEqual(ROUTES.map((r) => [r, 'delivered', total / ROUTES.length]));
      expect(await counted(stores[0]!)).toEqual(await actual(c));

      // the stores close their connections; a prune folds their shards into shard 0
      for (const s of stores.splice(0)) await s.close();
      const s = await openStore(url);
      stores.push(s);
      const shardsBefore = Number((await c.query('SELECT COUNT(DISTINCT shard) AS n FROM delivery_counts')).rows[0].n);
      expect(shardsBefore).toBeGreaterThan(1);
      await s.prune({ before: 0, keysBefore: 0, limit: 100 });
      expect((await c.query('SELECT DISTINCT shard FROM delivery_counts')).rows.map((x: { shard: number }) => Number(x.shard))).toEqual([0]);
      expect(await counted(s)).toEqual(await actual(c));
    } finally {
      await c.end();
      for (const s of stores) await s.close();
    }
  });
});
