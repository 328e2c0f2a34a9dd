// The events' `platform_event` column (migration 010): what a route can match an event by,
// besides source, type and hops, kept beside the serialized event so a plan's traffic can be
// counted per distinct match key without parsing events. A value that is present but not a
// string cannot be matched as a name, yet a route filter could still test it: it is stored as
// IRREGULAR, which makes every reader that groups by the column read such events whole.

export const IRREGULAR_PLATFORM_EVENT = '(not a string)';

/** The column's value for an event (its parsed form, or anything with `provenance`). */
export function platformEventColumn(event: unknown): string | null {
  const provenance = event !== null && typeof event === 'object' ? (event as { provenance?: unknown }).provenance : undefined;
  if (provenance === null || typeof provenance !== 'object' || Array.isArray(provenance)) return null;
  const pe = (provenance as { platform_event?: unknown }).platform_event;
  if (pe === undefined || pe === null) return null;
  return typeof pe === 'string' ? pe : IRREGULAR_PLATFORM_EVENT;
}

/** The column's value from the serialized event, for writers that did not set it. */
export function platformEventOfJson(eventJson: string): string | null {
  try {
    return platformEventColumn(JSON.parse(eventJson));
  } catch {
    return IRREGULAR_PLATFORM_EVENT;
  }
}
