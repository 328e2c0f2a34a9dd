// Delivery counters on Postgres without lock waits between writers (issue 22). Migration 003's
// row trigger bumped the shard `pg_backend_pid() % 64`: two connections whose pids collide
// modulo 64 (likely with two pools of 8) share counter rows, and a claim and a completion that
// touch the same routes in different orders, each holding the row it bumped first until commit,
// deadlocked (seen in the contract test of two stores claiming concurrently; reproduced at
// once with every connection on one shard).
// - shard = pg_backend_pid(): unique among live connections, so no two open transactions ever
//   write the same counter row and a writer never waits for another on a counter.
// - one statement-level trigger per kind of change: the rows of a statement are summed per
//   route and status (new rows count +1, old rows -1, so an update that changes neither nets
//   to nothing and writes nothing) and bumped in one upsert, not two upserts per row.
// - shard 0 holds the folded counts: the pruner moves the rows of connections that are gone
//   into it (state/postgres/store.ts: FOLD_COUNTS), so the table stays as small as the set of
//   live connections times routes. A backend's pid is never 0, and rows of migration 003's
//   shards 1..63 are plain counts, summed like any other.
// SQLite serializes its writers and keeps migration 003's triggers.

import type { Migration } from './index.js';

const apply = (sign: string, table: string) => `SELECT route, status, ${sign} AS d FROM ${table}`;

const fn = (name: string, parts: string[]) => `
CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO delivery_counts AS c (route, status, shard, count)
    SELECT route, status, pg_backend_pid(), SUM(d) FROM (${parts.join(' UNION ALL ')}) AS x
    GROUP BY route, status HAVING SUM(d) <> 0 ORDER BY route, status
    ON CONFLICT (route, status, shard) DO UPDATE SET count = c.count + excluded.count;
  RETURN NULL;
END
$fn$;`;

const postgres = `
DROP TRIGGER deliveries_counted ON deliveries;
DROP TRIGGER deliveries_counted_update ON deliveries;
DROP FUNCTION orgloop_count_delivery();
${fn('orgloop_count_inserted', [apply('1', 'new_rows')])}
${fn('orgloop_count_updated', [apply('1', 'new_rows'), apply('-1', 'old_rows')])}
${fn('orgloop_count_deleted', [apply('-1', 'old_rows')])}
CREATE TRIGGER deliveries_counted_insert AFTER INSERT ON deliveries
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION orgloop_count_inserted();
CREATE TRIGGER deliveries_counted_update AFTER UPDATE ON deliveries
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION orgloop_count_updated();
CREATE TRIGGER deliveries_counted_delete AFTER DELETE ON deliveries
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION orgloop_count_deleted();
`;

export const migration: Migration = { version: 9, name: 'count_shards', sqlite: '', postgres };
