// Read-only queries for observability (metrics gauges, the console's JSON API). They run on a
// connection of their own, beside the Store's, so a slow listing never waits behind the
// executor's write batch and the Store interface stays the executor's contract alone.

import type { DeliveryStatus } from '../store.js';
import { isPostgresUrl } from '../open.js';

export interface BacklogRow {
  route: string;
  actor: string;
  status: DeliveryStatus;
  count: number;
  /** run_at (epoch ms) of the oldest row in this group */
  oldest_run_at: number | null;
}

export interface RuntimeQueries {
  readonly kind: 'sqlite' | 'postgres';
  /** Deliveries not finished (pending, retry, leased) and dead ones, per route, actor and status. */
  backlog(): Promise<BacklogRow[]>;
  /** Leased deliveries whose lease ran out: work a crashed or stalled worker left to be reclaimed. */
  expiredLeases(now: number): Promise<number>;
  /** Bytes the store takes on disk (SQLite: database plus WAL; Postgres: the schema's relations). */
  storeBytes(): Promise<number>;
  close(): Promise<void>;
}

export async function openQueries(location: string): Promise<RuntimeQueries> {
  if (isPostgresUrl(location)) {
    const { PostgresQueries } = await import('./postgres.js');
    return PostgresQueries.open(location);
  }
  const { SqliteQueries } = await import('./sqlite.js');
  return new SqliteQueries(location);
}
