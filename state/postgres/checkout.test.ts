// A client held for a transaction, against a real Postgres (ORGLOOP_TEST_PG_URL): when the server
// ends its connection while no statement runs, the process keeps running, the client is marked
// broken and destroyed on release, and the pool serves the next caller on a new connection.

import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { checkout } from './checkout.js';

const PG_URL = process.env.ORGLOOP_TEST_PG_URL;

const pools: pg.Pool[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) await p.end();
});

function pool(): pg.Pool {
  const p = new pg.Pool({ connectionString: PG_URL, max: 1 });
  p.on('error', () => undefined);
  pools.push(p);
  return p;
}

const backendPid = async (c: pg.PoolClient) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

describe.skipIf(!PG_URL)('checkout', () => {
  it('a connection ended by the server while held: no crash, the client is destroyed, the pool reconnects', async () => {
    const p = pool();
    const held = await checkout(p);
    await held.client.query('BEGIN');
    const pid = await backendPid(held.client);
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await admin.end();
    }
    // the server's FATAL arrives as an 'error' event on the idle client: without the
    // checkout's listener vitest would report it as an uncaught error
    for (let i = 0; i < 100 && !held.broken; i++) await new Promise((r) => setTimeout(r, 20));
    expect(held.broken).toBe(true);
    await expect(held.client.query('SELECT 1')).rejects.toThrow();
    held.release();
    const again = await checkout(p);
    expect(await backendPid(again.client)).not.toBe(pid);
    again.release();
  });

  it('a healthy client goes back to the pool with no listener of ours left on it', async () => {
    const p = pool();
    const held = await checkout(p);
    const listeners = held.client.listenerCount('error');
    const pid = await backendPid(held.client);
    held.release();
    expect(held.broken).toBe(false);
    const again = await checkout(p);
    expect(await backendPid(again.client)).toBe(pid);
    expect(again.client.listenerCount('error')).toBe(listeners);
    again.release();
  });
});
