// Inbox batching (OrgLoop's `then.config.inbox`): events of an inbox route wait per session key
// until the agent drains them, and the agent is woken by one notification per batch.
// - inbox_entries: one per delivery that went to an inbox (UNIQUE delivery_id: a retried enqueue
//   is still one entry), the event as the route's transforms left it; `taken_by/_until` mark the
//   entries a drain is handing out until it confirms it wrote them (then they are deleted).
// - inbox_sessions: per session key, the route and actor the notification goes to, the route's
//   then.config as rendered for the first event, the default drain size, and the notification
//   delivery still outstanding (none: the next event notifies).

import type { Migration } from './index.js';

const sqlite = `
CREATE TABLE inbox_entries (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  session_key TEXT    NOT NULL,
  delivery_id TEXT    NOT NULL UNIQUE,
  route       TEXT    NOT NULL,
  event_id    TEXT    NOT NULL,
  event_json  TEXT    NOT NULL,
  enqueued_at INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  taken_by    TEXT,
  taken_until INTEGER
);
CREATE INDEX inbox_entries_key ON inbox_entries (session_key, id);
CREATE INDEX inbox_entries_expiry ON inbox_entries (expires_at);
CREATE INDEX inbox_entries_taken ON inbox_entries (taken_by) WHERE taken_by IS NOT NULL;

CREATE TABLE inbox_sessions (
  session_key        TEXT    PRIMARY KEY,
  route              TEXT    NOT NULL,
  actor              TEXT    NOT NULL,
  route_config       TEXT    NOT NULL,
  max_batch          INTEGER NOT NULL,
  notify_delivery_id TEXT
);
`;

const postgres = sqlite.replace(/INTEGER PRIMARY KEY AUTOINCREMENT/g, 'BIGSERIAL PRIMARY KEY').replace(/\bINTEGER\b/g, 'BIGINT');

export const migration: Migration = { version: 5, name: 'inbox', sqlite, postgres };
