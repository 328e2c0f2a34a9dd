// Retention at scale on Postgres: the log (three rows or more per event, the biggest runtime
// table) is partitioned by day on its `time` column, so the pruner drops a day whole once all of
// it is past the retention instead of deleting its rows one by one (DESIGN §4 Retention). A day's
// rows live up to a day longer than the retention. `time` is ISO-8601 UTC text, compared
// byte-wise (COLLATE "C"), so a day's range is ['YYYY-MM-DD', next day).
// - log_to_YYYYMMDD: everything before that day (the history at upgrade time, and today)
// - log_pYYYYMMDD: one day, created ahead by the pruner (state/postgres/log-partitions.ts)
// - log_later: the DEFAULT partition: rows of a day not created yet (no executor ran for days);
//   the pruner moves them into their day when it creates it, or deletes them after the retention.
// Events and deliveries stay unpartitioned: they are read and updated by id on the hot path,
// which a partitioned table would turn into a probe of every partition.
// SQLite keeps one table (one process, one file; its pruner deletes in small steps).

import type { Migration } from './index.js';

const postgres = `
ALTER TABLE log RENAME TO log_heap;
ALTER INDEX log_pkey RENAME TO log_heap_pkey;
ALTER INDEX log_time RENAME TO log_heap_time;
ALTER INDEX log_trace RENAME TO log_heap_trace;
ALTER SEQUENCE log_id_seq OWNED BY NONE;
CREATE TABLE log (
  id          BIGINT NOT NULL DEFAULT nextval('log_id_seq'),
  time        TEXT COLLATE "C" NOT NULL,
  phase       TEXT NOT NULL,
  level       TEXT NOT NULL,
  source      TEXT,
  route       TEXT,
  actor       TEXT,
  event_id    TEXT,
  delivery_id TEXT,
  trace_id    TEXT,
  message     TEXT,
  data        TEXT
) PARTITION BY RANGE (time);
ALTER SEQUENCE log_id_seq OWNED BY log.id;
DO $fn$
DECLARE
  upto TEXT := to_char((now() AT TIME ZONE 'UTC')::date + 1, 'YYYY-MM-DD');
BEGIN
  EXECUTE format('CREATE TABLE %I PARTITION OF log FOR VALUES FROM (MINVALUE) TO (%L)', 'log_to_' || replace(upto, '-', ''), upto);
END
$fn$;
CREATE TABLE log_later PARTITION OF log DEFAULT;
INSERT INTO log (id, time, phase, level, source, route, actor, event_id, delivery_id, trace_id, message, data)
  SELECT id, time, phase, level, source, route, actor, event_id, delivery_id, trace_id, message, data FROM log_heap;
DROP TABLE log_heap;
CREATE INDEX log_id ON log (id);
CREATE INDEX log_time ON log (time);
CREATE INDEX log_trace ON log (trace_id);
`;

export const migration: Migration = { version: 6, name: 'log_partitions', sqlite: '-- Postgres only\nSELECT 1;', postgres };
