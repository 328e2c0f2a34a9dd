// The events' match columns: fields of the event that routes and filters commonly match on, kept
// beside the serialized event so a plan's traffic can be counted per distinct value without
// parsing events. `platform_event` (migration 010) is what a route matches an event by besides
// source, type and hops; `author_type` (migration 011) is what "humans only" / "no bots" filters
// test. Each holds the string at its path in `provenance`, or null when it is absent or null
// (matchers cannot tell those apart: providers/lib/match.ts). A value that is present but not a
// string cannot be grouped exactly (a matcher may compare it as text, or as a list): it is stored
// as IRREGULAR, which makes every reader that groups by the column read such events whole.

export const IRREGULAR = '(not a string)';

/** The match columns and the event path each holds, in the order the columns were added. */
export const MATCH_COLUMNS = [
  { column: 'platform_event', path: 'provenance.platform_event' },
  { column: 'author_type', path: 'provenance.author_type' },
] as const;

export type MatchColumn = (typeof MATCH_COLUMNS)[number]['column'];
export type MatchValues = Record<MatchColumn, string | null>;

function provenanceField(event: unknown, field: string): string | null {
  const provenance = event !== null && typeof event === 'object' ? (event as { provenance?: unknown }).provenance : undefined;
  if (provenance === null || typeof provenance !== 'object' || Array.isArray(provenance)) return null;
  const v = (provenance as Record<string, unknown>)[field];
  if (v === undefined || v === null) return null;
  return typeof v === 'string' ? v : IRREGULAR;
}

/** Every match column's value for an event (its parsed form, or anything with `provenance`), as writers set them beside event_json. */
export function matchColumns(event: unknown): MatchValues {
  return { platform_event: provenanceField(event, 'platform_event'), author_type: provenanceField(event, 'author_type') };
}

/** The match columns from the serialized event, for writers that did not set them. */
export function matchColumnsOfJson(eventJson: string): MatchValues {
  try {
    return matchColumns(JSON.parse(eventJson));
  } catch {
    return { platform_event: IRREGULAR, author_type: IRREGULAR };
  }
}
