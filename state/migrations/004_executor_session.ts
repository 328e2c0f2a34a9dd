// Executor liveness on Postgres: an executor holds a session (its LISTEN connection, named
// `orgloop:<id>` in pg_stat_activity) while it lives; peers treat the leases of a registered
// executor without its session as abandoned, so kill -9 frees its work within seconds instead of
// after the full lease. SQLite has the column for schema parity and never sets it.

import type { Migration } from './index.js';

const sql = 'ALTER TABLE executors ADD COLUMN session TEXT;';

export const migration: Migration = { version: 4, name: 'executor_session', sqlite: sql, postgres: sql };
