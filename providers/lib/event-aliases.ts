// Event names that mean the same event (DESIGN §7, "Event names"). Sources emit OrgLoop's
// names (`pull_request.review_submitted`); the seed articles and our earlier connectors wrote
// others (`pull_request_review`). A provider declares `eventAliases` and the registry records
// them here; a route's `when.events` and any match on `provenance.platform_event` (route
// filters and filter transforms) accept a name or any of its aliases, without a warning.
//
// The table is global rather than per source: filter transforms do not know which source an
// event came from, and the names are platform-qualified enough not to collide.

const groups = new Map<string, string[]>();

/** Records `name` and `aliases` as one event; groups sharing a name merge. */
export function registerEventAliases(name: string, aliases: readonly string[]): void {
  const all = new Set<string>([name, ...aliases]);
  for (const n of [...all]) for (const m of groups.get(n) ?? []) all.add(m);
  const list = [...all];
  for (const n of list) groups.set(n, list);
}

/** `name` and every name that means the same event (just `[name]` when it has none). */
export function sameEventNames(name: string): readonly string[] {
  return groups.get(name) ?? [name];
}

/** The dotted path whose values are event names (besides a route's `when.events`). */
export const PLATFORM_EVENT_PATH = 'provenance.platform_event';
