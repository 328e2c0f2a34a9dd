// Initial schema: both planes of DESIGN §4. Timestamps shown to people are ISO-8601 text;
// times the runtime compares (run_at, lease_until, expires_at, seen_at) are epoch milliseconds.
// The two dialects differ only in types (BIGINT, BIGSERIAL), so keep them side by side.

import type { Migration } from './index.js';

const sqlite = `
CREATE TABLE state_meta (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  lineage        TEXT    NOT NULL,
  serial         INTEGER NOT NULL,
  format_version INTEGER NOT NULL,
  secret_salt    TEXT    NOT NULL
);

CREATE TABLE state_versions (
  serial        INTEGER PRIMARY KEY,
  parent_serial INTEGER,
  kind          TEXT    NOT NULL,
  created_at    TEXT    NOT NULL,
  who           TEXT    NOT NULL,
  message       TEXT,
  config_digest TEXT    NOT NULL,
  summary       TEXT    NOT NULL,
  rollback_of   INTEGER,
  snapshot      TEXT    NOT NULL
);

CREATE TABLE blobs (
  sha256 TEXT PRIMARY KEY,
  text   TEXT NOT NULL
);

CREATE TABLE locks (
  singleton    INTEGER PRIMARY KEY CHECK (singleton = 1),
  id           TEXT    NOT NULL,
  operation    TEXT    NOT NULL,
  who          TEXT    NOT NULL,
  host         TEXT    NOT NULL,
  pid          INTEGER NOT NULL,
  created_at   TEXT    NOT NULL,
  heartbeat_at TEXT    NOT NULL
);

CREATE TABLE cursors (
  source     TEXT PRIMARY KEY,
  cursor     TEXT,
  etag       TEXT,
  lease_term INTEGER,
  updated_at TEXT NOT NULL
);

CREATE TABLE events (
  id          TEXT    PRIMARY KEY,
  source      TEXT    NOT NULL,
  type        TEXT    NOT NULL,
  dedupe_key  TEXT,
  payload     TEXT    NOT NULL,
  trace_id    TEXT    NOT NULL,
  parent_id   TEXT,
  hops        INTEGER NOT NULL,
  received_at TEXT    NOT NULL,
  UNIQUE (source, dedupe_key)
);
CREATE INDEX events_trace ON events (trace_id);
CREATE INDEX events_received ON events (received_at);

CREATE TABLE deliveries (
  id           TEXT    PRIMARY KEY,
  event_id     TEXT    NOT NULL REFERENCES events (id),
  route        TEXT    NOT NULL,
  actor        TEXT    NOT NULL,
  state_serial INTEGER NOT NULL,
  status       TEXT    NOT NULL,
  attempts     INTEGER NOT NULL,
  run_at       INTEGER NOT NULL,
  lease_owner  TEXT,
  lease_until  INTEGER,
  last_error   TEXT,
  created_at   TEXT    NOT NULL,
  updated_at   TEXT    NOT NULL,
  UNIQUE (event_id, route)
);
-- claims read due work in run_at order and expired leases in lease_until order; partial
-- indexes keep both a short ordered scan however many delivered rows pile up
CREATE INDEX deliveries_due ON deliveries (run_at) WHERE status IN ('pending', 'retry');
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE status = 'leased';
-- listings (deliveries list --status dead), newest first
CREATE INDEX deliveries_status ON deliveries (status, created_at);

CREATE TABLE leases (
  name       TEXT    PRIMARY KEY,
  holder     TEXT    NOT NULL,
  term       INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);

CREATE TABLE executors (
  id            TEXT    PRIMARY KEY,
  host          TEXT    NOT NULL,
  pid           INTEGER NOT NULL,
  serial_loaded INTEGER NOT NULL,
  started_at    TEXT    NOT NULL,
  heartbeat_at  TEXT    NOT NULL
);

CREATE TABLE kv (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE dedup_seen (
  scope   TEXT    NOT NULL,
  key     TEXT    NOT NULL,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
);

CREATE TABLE log (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  time        TEXT NOT NULL,
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
);
CREATE INDEX log_time ON log (time);
CREATE INDEX log_trace ON log (trace_id);
`;

// Same schema for Postgres: BIGINT for epoch-ms columns, BIGSERIAL for the log id.
const postgres = sqlite
  .replace(/INTEGER PRIMARY KEY AUTOINCREMENT/g, 'BIGSERIAL PRIMARY KEY')
  .replace(/\bINTEGER\b/g, 'BIGINT');

export const migration: Migration = { version: 1, name: 'initial', sqlite, postgres };
