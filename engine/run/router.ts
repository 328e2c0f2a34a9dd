// The router: which routes an event wakes. Routes are indexed by (source, event type), so the
// cost of routing an event depends on how many routes could match it, not on how many exist.

import type { OrgEvent } from '../../providers/types.js';
import { compileFieldMatchers, matchesAll, type FieldMatcher } from '../../providers/lib/match.js';
import { sameEventNames } from '../../providers/lib/event-aliases.js';

export interface RoutableRoute {
  name: string;
  source: string;
  /** empty = every event type of the source */
  events: string[];
  filter?: Record<string, unknown>;
}

interface Entry<R> {
  route: R;
  order: number;
  filter: FieldMatcher[];
}

const ANY = '\u0000*';

export class Router<R extends RoutableRoute> {
  private readonly index = new Map<string, Entry<R>[]>();
  readonly size: number;

  constructor(routes: Iterable<R>) {
    let order = 0;
    for (const route of routes) {
      const entry: Entry<R> = { route, order: order++, filter: compileFieldMatchers(route.filter) };
      // an event name matches the events its aliases name too (event-aliases.ts)
      const keys = route.events.length === 0 ? [ANY] : [...new Set(route.events.flatMap((e) => sameEventNames(e)))];
      for (const k of keys) {
        const key = route.source + '\u0000' + (k === ANY ? '*' : k);
        let list = this.index.get(key);
        if (!list) this.index.set(key, (list = []));
        list.push(entry);
      }
    }
    this.size = order;
  }

  /** Routes whose `when` matches, in declaration order. */
  match(event: OrgEvent): R[] {
    const prefix = event.source + '\u0000';
    const byType = this.index.get(prefix + event.type);
    const pe = event.provenance?.platform_event;
    const byPlatform = typeof pe === 'string' && pe !== event.type ? this.index.get(prefix + pe) : undefined;
    const byAny = this.index.get(prefix + '*');
    if (!byType && !byPlatform && !byAny) return [];

    const hits: Entry<R>[] = [];
    const lists = [byType, byPlatform, byAny];
    const several = (byType ? 1 : 0) + (byPlatform ? 1 : 0) + (byAny ? 1 : 0) > 1;
    const seen = several ? new Set<Entry<R>>() : null;
    for (const list of lists) {
      if (!list) continue;
      for (const e of list) {
        if (seen) {
          if (seen.has(e)) continue;
          seen.add(e);
        }
        if (e.filter.length === 0 || matchesAll(event, e.filter)) hits.push(e);
      }
    }
    if (several) hits.sort((a, b) => a.order - b.order);
    return hits.map((e) => e.route);
  }
}
