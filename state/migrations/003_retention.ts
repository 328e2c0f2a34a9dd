// Retention (DESIGN §4 Retention): finished deliveries, their events and log rows are pruned
// after `event_retention`, so the store stops growing with its history.
// - dedupe_keys: a webhook's or poll item's dedupe key outlives its event, for
//   max(retention, 72 h), so a sender's redelivery is still a duplicate after the event is gone.
// - deliveries_finished: the pruner walks finished deliveries oldest first without a scan.
// - delivery_counts: maintained by triggers, so `status` and `plan` count deliveries per route
//   and status without reading the deliveries table. On Postgres each connection writes its own
//   shard of the counters (summed when read), so concurrent transactions never wait on one row.

import type { Migration } from './index.js';

const common = (epochMs: string) => `
CREATE TABLE dedupe_keys (
  source   TEXT    NOT NULL,
  key      TEXT    NOT NULL,
  event_id TEXT    NOT NULL,
  seen_at  INTEGER NOT NULL,
  PRIMARY KEY (source, key)
);
CREATE INDEX dedupe_keys_seen ON dedupe_keys (seen_at);
INSERT INTO dedupe_keys (source, key, event_id, seen_at)
  SELECT source, dedupe_key, id, ${epochMs} FROM events WHERE dedupe_key IS NOT NULL;

CREATE INDEX deliveries_finished ON deliveries (updated_at) WHERE status IN ('delivered', 'dead', 'cancelled');

CREATE TABLE delivery_counts (
  route  TEXT    NOT NULL,
  status TEXT    NOT NULL,
  shard  INTEGER NOT NULL,
  count  INTEGER NOT NULL,
  PRIMARY KEY (route, status, shard)
);
INSERT INTO delivery_counts (route, status, shard, count)
  SELECT route, status, 0, COUNT(*) FROM deliveries GROUP BY route, status;
`;

const bump = (row: 'NEW' | 'OLD', by: string, shard: string) =>
  `INSERT INTO delivery_counts (route, status, shard, count) VALUES (${row}.route, ${row}.status, ${shard}, ${by})
    ON CONFLICT (route, status, shard) DO UPDATE SET count = delivery_counts.count + ${by};`;

const sqlite = `${common("CAST((julianday(received_at) - 2440587.5) * 86400000 AS INTEGER)")}
CREATE TRIGGER deliveries_counted_insert AFTER INSERT ON deliveries BEGIN
  ${bump('NEW', '1', '0')}
END;
CREATE TRIGGER deliveries_counted_update AFTER UPDATE OF route, status ON deliveries
  WHEN OLD.route <> NEW.route OR OLD.status <> NEW.status BEGIN
  ${bump('OLD', '-1', '0')}
  ${bump('NEW', '1', '0')}
END;
CREATE TRIGGER deliveries_counted_delete AFTER DELETE ON deliveries BEGIN
  ${bump('OLD', '-1', '0')}
END;
`;

const postgres = `${common('(EXTRACT(EPOCH FROM received_at::timestamptz) * 1000)::bigint')
  .replace(/\bINTEGER\b/g, 'BIGINT')}
CREATE FUNCTION orgloop_count_delivery() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  my_shard BIGINT := pg_backend_pid() % 64;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    ${bump('OLD', '-1', 'my_shard')}
  END IF;
  IF TG_OP <> 'DELETE' THEN
    ${bump('NEW', '1', 'my_shard')}
  END IF;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER deliveries_counted AFTER INSERT OR DELETE ON deliveries
  FOR EACH ROW EXECUTE FUNCTION orgloop_count_delivery();
CREATE TRIGGER deliveries_counted_update AFTER UPDATE OF route, status ON deliveries
  FOR EACH ROW WHEN (OLD.route IS DISTINCT FROM NEW.route OR OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION orgloop_count_delivery();
`;

export const migration: Migration = { version: 3, name: 'retention', sqlite, postgres };
