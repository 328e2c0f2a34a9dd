// Schemas as named workspaces (engine/workspaces/): each workspace other than `default` keeps
// its state in a schema of its own on the same server, so listing, probing and dropping them are
// questions about schemas. A schema counts as orgloop state once it has schema_migrations.

import pg from 'pg';
import { splitSchema } from './store.js';
import { toStoreError } from './errors.js';

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const { connectionString } = splitSchema(url);
  const c = new pg.Client({ connectionString, application_name: `orgloop:pid-${process.pid}`, connectionTimeoutMillis: 10_000 });
  // a connection ended by the server between statements fails the next one; without a listener it would crash the process
  c.on('error', () => undefined);
  try {
    await c.connect();
    return await fn(c);
  } catch (e) {
    throw toStoreError(e, url);
  } finally {
    await c.end().catch(() => undefined);
  }
}

const HAS_STATE = `SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'schema_migrations'`;

/** Whether the URL's `?schema=` holds orgloop state. */
export async function stateSchemaExists(url: string): Promise<boolean> {
  const { schema } = splitSchema(url);
  return withClient(url, async (c) => (await c.query(HAS_STATE, [schema ?? 'public'])).rowCount! > 0);
}

/** The schemas holding orgloop state whose names start with `prefix`, sorted. */
export async function stateSchemasWithPrefix(url: string, prefix: string): Promise<string[]> {
  return withClient(url, async (c) => {
    const r = await c.query<{ table_schema: string }>(
      `SELECT table_schema FROM information_schema.tables
        WHERE table_name = 'schema_migrations' AND left(table_schema, length($1)) = $1
        ORDER BY table_schema`,
      [prefix],
    );
    return r.rows.map((x) => x.table_schema);
  });
}

/** Drops the URL's `?schema=` with everything in it. */
export async function dropStateSchema(url: string): Promise<void> {
  const { schema } = splitSchema(url);
  // never the URL's own (default's) schema: only a workspace's schema is dropped
  if (!schema) throw new Error('dropStateSchema: the URL names no schema');
  await withClient(url, async (c) => {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
}
