// The events column holding the whole serialized event was called `payload`, which is also the
// name of one field inside the event: it is `event_json` now.

import type { Migration } from './index.js';

const sql = 'ALTER TABLE events RENAME COLUMN payload TO event_json;';

export const migration: Migration = { version: 2, name: 'event_json', sqlite: sql, postgres: sql };
