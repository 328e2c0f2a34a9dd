// Runs the shared Store contract and the delivery model against a real Postgres, only when
// ORGLOOP_TEST_PG_URL is set. Every store gets its own fresh schema, dropped afterwards.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../open.js';
import { StoreUnavailableError } from '../store.js';
import { describeStoreContract, type Backend } from '../test-helpers/contract.js';
import { describeDeliveryModel } from '../test-helpers/delivery-model.js';
import { describeInboxContract } from '../test-helpers/inbox-contract.js';

const PG_URL = process.env.ORGLOOP_TEST_PG_URL;
const run = `orgloop_test_${process.pid}_${randomBytes(3).toString('hex')}`;
const schemas: string[] = [];

function schemaUrl(schema: string): string {
  const u = new URL(PG_URL!);
  u.searchParams.set('schema', schema);
  return u.toString();
}

const backend: Backend = {
  name: 'postgres',
  newLocation: async () => {
    const schema = `${run}_${schemas.length}`;
    schemas.push(schema);
    return schemaUrl(schema);
  },
};

it('an unreachable server gives a clear StoreUnavailableError', async () => {
  const err = await openStore('postgres://nobody:secret@127.0.0.1:1/none').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StoreUnavailableError);
  expect((err as Error).message).toContain('the server cannot be reached');
  expect((err as Error).message).not.toContain('secret');
});


describe.skipIf(!PG_URL)('postgres store', () => {
  afterAll(async () => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await c.end();
  });

  it('concurrent first opens of one schema migrate once and agree on the lineage', async () => {
    const url = await backend.newLocation();
    const stores = await Promise.all([1, 2, 3].map(() => openStore(url)));
    const lineages = new Set(await Promise.all(stores.map(async (s) => (await s.meta()).lineage)));
    expect(lineages.size).toBe(1);
    for (const s of stores) await s.close();
  });

  it('read-only: writes fail with a clear StoreUnavailableError', async () => {
    const url = await backend.newLocation();
    const w = await openStore(url);
    const ro = await openStore(url, { readonly: true });
    const err = await ro.kvSet('k', 'v').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as StoreUnavailableError).code).toBe('25006');
    expect((err as Error).message).toContain('is unavailable: the store is open read-only');
    expect(await w.kvGet('k')).toBeNull();
    await ro.close();
    await w.close();
  });

  it('the log is pruned by whole days: days created ahead, stragglers moved into their day, days past the retention dropped', async () => {
    const DAY = 86_400_000;
    let now = Date.parse('2031-03-10T12:00:00.000Z');
    const url = await backend.newLocation();
    const s = await openStore(url, { clock: () => now });
    const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${new URL(url).searchParams.get('schema')}` });
    await c.connect();
    const rowsIn = async () =>
      Object.fromEntries(
        (await c.query(`SELECT tableoid::regclass::text AS part, COUNT(*)::int AS n FROM log GROUP BY 1`)).rows.map((r: { part: string; n: number }) => [r.part, r.n]),
      );
    const parts = async () =>
      (await c.query(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'log'::regclass ORDER BY 1`)).rows.map((r: { relname: string }) => r.relname);
    const entry = (time: string) => ({ time, phase: 'deliver.success', level: 'info' as const, source: null, route: 'r', actor: null, event_id: null, delivery_id: null, trace_id: null, message: time, data: null });
    const prune = () => s.prune({ before: now - 5 * DAY, keysBefore: now - 5 * DAY, limit: 500 });
    try {
      // no day of 2031 exists yet: its rows wait in the default partition
      await s.appendLog([entry('2031-03-10T12:00:00.000Z'), entry('2031-03-11T01:00:00.000Z')]);
      expect(await rowsIn()).toEqual({ log_later: 2 });
      await prune();
      expect(await parts()).toEqual(expect.arrayContaining(['log_later', 'log_p20310310', 'log_p20310311', 'log_p20310312']));
      expect(await rowsIn()).toEqual({ log_p20310310: 1, log_p20310311: 1 });

      // ten days on, five days' retention: 10 to 12 March and the history before them go whole
      now = Date.parse('2031-03-20T06:00:00.000Z');
      await s.appendLog([entry('2031-03-20T06:00:00.000Z')]);
      await prune();
      const left = await parts();
      expect(left.filter((p) => p !== 'log_later').sort()).toEqual(['log_p20310320', 'log_p20310321', 'log_p20310322']);
      expect(await rowsIn()).toEqual({ log_p20310320: 1 });
      expect((await s.logs({})).map((l) => l.message)).toEqual(['2031-03-20T06:00:00.000Z']);
      // a row of a day past the retention that sat in the default partition goes row by row
      await s.appendLog([entry('2031-03-01T00:00:00.000Z')]);
      expect((await prune()).log).toBe(1);
      expect(await rowsIn()).toEqual({ log_p20310320: 1 });
    } finally {
      await c.end();
      await s.close();
    }
  });

  it('a claim brings small event bodies with it; a store wakes its own executor in-process and its peers through NOTIFY', async () => {
    const url = await backend.newLocation();
    const a = await openStore(url);
    const b = await openStore(url);
    const woken = { a: 0, b: 0 };
    try {
      await a.subscribe!('exe_a', { work: () => woken.a++, apply: () => {} });
      await b.subscribe!('exe_b', { work: () => woken.b++, apply: () => {} });
      const item = (id: string, bytes: number) => {
        const json = JSON.stringify({ id, source: 'hook', type: 't', pad: 'x'.repeat(bytes) });
        return {
          event: { id, source: 'hook', type: 't', dedupe_key: null, event_json: json, trace_id: `tr_${id}`, parent_id: null, hops: 0, received_at: new Date().toISOString() },
          deliveries: [{ id: `dlv_${id}`, route: 'r', actor: 'x', state_serial: 1 }],
        };
      };
      const small = item('evt_small', 100);
      const large = item('evt_large', 70_000);
      // queued (no lease): a's ingest wakes a at once and b through its LISTEN session; a's own
      // notification, coming back through a's session, is dropped
      await a.ingest([small, large]);
      expect(woken.a).toBe(1);
      for (let i = 0; i < 100 && woken.b === 0; i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300)); // time for a's own notification to come back
      expect(woken).toEqual({ a: 1, b: 1 });
      const claimed = await b.claim('exe_b', 10, 30_000);
      const byId = new Map(claimed.map((d) => [d.id, d]));
      expect(byId.get('dlv_evt_small')?.body).toBe(small.event.event_json);
      // past 64 KiB a body is read when its delivery runs, within the executor's memory budget
      expect(byId.has('dlv_evt_large')).toBe(true);
      expect(byId.get('dlv_evt_large')?.body).toBeUndefined();
      expect(Object.keys(byId.get('dlv_evt_small')!).sort()).toEqual(
        ['actor', 'attempts', 'body', 'created_at', 'event_id', 'id', 'last_error', 'lease_owner', 'lease_until', 'route', 'run_at', 'state_serial', 'status', 'updated_at'],
      );
    } finally {
      await a.close();
      await b.close();
    }
  });

  describeStoreContract(backend);
  describeDeliveryModel(backend, 60);
  describeInboxContract(backend);
});
