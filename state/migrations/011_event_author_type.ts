// A second match column: `author_type` (the event's provenance.author_type), which "humans only"
// and "no bots" filters test. With it in the events_match index a plan's traffic annotation
// decides such filters per group of events (engine/plan/traffic-count.ts) instead of reading
// every event of the group. Values as for platform_event (state/event-columns.ts): the string,
// NULL when absent or null, '(not a string)' otherwise. Existing rows are backfilled (only rows
// whose text names the field can hold it), and the index is rebuilt with the column last.

import type { Migration } from './index.js';

const sqlite = `
ALTER TABLE events ADD COLUMN author_type TEXT;
UPDATE events SET author_type = CASE
    WHEN NOT json_valid(event_json) THEN '(not a string)'
    WHEN json_type(event_json, '$.provenance.author_type') IS NULL THEN NULL
    WHEN json_type(event_json, '$.provenance.author_type') = 'null' THEN NULL
    WHEN json_type(event_json, '$.provenance.author_type') = 'text' THEN json_extract(event_json, '$.provenance.author_type')
    ELSE '(not a string)' END
  WHERE event_json LIKE '%"author_type"%';
DROP INDEX events_match;
CREATE INDEX events_match ON events (source, received_at, type, platform_event, hops, author_type);
`;

// every stored event_json is JSON.stringify's output, so the cast cannot fail
const postgres = `
ALTER TABLE events ADD COLUMN author_type TEXT;
UPDATE events SET author_type = CASE
    WHEN jsonb_typeof(event_json::jsonb #> '{provenance,author_type}') IS NULL THEN NULL
    WHEN jsonb_typeof(event_json::jsonb #> '{provenance,author_type}') = 'null' THEN NULL
    WHEN jsonb_typeof(event_json::jsonb #> '{provenance,author_type}') = 'string' THEN event_json::jsonb #>> '{provenance,author_type}'
    ELSE '(not a string)' END
  WHERE event_json LIKE '%"author_type"%';
DROP INDEX events_match;
CREATE INDEX events_match ON events (source, received_at, type, platform_event, hops, author_type);
`;

export const migration: Migration = { version: 11, name: 'event_author_type', sqlite, postgres };
