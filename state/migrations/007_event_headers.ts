// The ingress request headers of a webhook event (masked by engine/secrets/headers.ts, as JSON),
// shown in the console's trace. NULL for events that did not come over HTTP.

import type { Migration } from './index.js';

const sql = 'ALTER TABLE events ADD COLUMN headers TEXT;';

export const migration: Migration = { version: 7, name: 'event_headers', sqlite: sql, postgres: sql };
