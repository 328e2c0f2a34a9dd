// What routes match on, as columns: `platform_event` (the event's provenance.platform_event)
// joins source, type and hops, and one index holds all four after (source, received_at). A plan's
// traffic annotation (engine/plan/traffic.ts) then counts a window's events per distinct
// (source, type, platform_event, hops) from the index alone, instead of reading and parsing every
// event. A platform_event that is present but not a string is stored as '(not a string)', so
// such events are always read whole (see state/event-columns.ts). Existing rows are backfilled;
// only rows whose text names the field can hold it.

import type { Migration } from './index.js';

const sqlite = `
ALTER TABLE events ADD COLUMN platform_event TEXT;
UPDATE events SET platform_event = CASE
    WHEN NOT json_valid(event_json) THEN '(not a string)'
    WHEN json_type(event_json, '$.provenance.platform_event') IS NULL THEN NULL
    WHEN json_type(event_json, '$.provenance.platform_event') = 'null' THEN NULL
    WHEN json_type(event_json, '$.provenance.platform_event') = 'text' THEN json_extract(event_json, '$.provenance.platform_event')
    ELSE '(not a string)' END
  WHERE event_json LIKE '%"platform_event"%';
CREATE INDEX events_match ON events (source, received_at, type, platform_event, hops);
`;

// every stored event_json is JSON.stringify's output, so the cast cannot fail
const postgres = `
ALTER TABLE events ADD COLUMN platform_event TEXT;
UPDATE events SET platform_event = CASE
    WHEN jsonb_typeof(event_json::jsonb #> '{provenance,platform_event}') IS NULL THEN NULL
    WHEN jsonb_typeof(event_json::jsonb #> '{provenance,platform_event}') = 'null' THEN NULL
    WHEN jsonb_typeof(event_json::jsonb #> '{provenance,platform_event}') = 'string' THEN event_json::jsonb #>> '{provenance,platform_event}'
    ELSE '(not a string)' END
  WHERE event_json LIKE '%"platform_event"%';
CREATE INDEX events_match ON events (source, received_at, type, platform_event, hops);
`;

export const migration: Migration = { version: 10, name: 'event_match', sqlite, postgres };
