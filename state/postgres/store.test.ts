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

  describeStoreContract(backend);
  describeDeliveryModel(backend, 60);
  describeInboxContract(backend);
});
