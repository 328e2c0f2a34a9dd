// Opens the state store named by --state / ORGLOOP_STATE: a postgres:// URL selects the
// Postgres backend, anything else is a SQLite file path (parent directories are created).
// Pending schema migrations run on open.

import type { Store } from './store.js';

export interface OpenOptions {
  /** open without writing: no migrations, no file creation; writes fail with StoreUnavailableError */
  readonly?: boolean;
  /** epoch-ms clock used for run_at, leases and timestamps; tests pass a controllable one */
  clock?: () => number;
}

export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

export async function openStore(location: string, opts: OpenOptions = {}): Promise<Store> {
  if (isPostgresUrl(location)) {
    const { PostgresStore } = await import('./postgres/store.js');
    return PostgresStore.open(location, opts);
  }
  const { SqliteStore } = await import('./sqlite/store.js');
  return new SqliteStore(location, opts);
}
