// Counting a window's events through two sets of routes (a plan's before and after) without
// reading most of them. Routes match on source, event name and hops, which the store keeps as
// indexed columns (migration 010); so the window is first counted per distinct (source, type,
// platform_event, hops) by the store, and each group is decided once through the real Router on
// an event made of those fields. Only the groups whose outcome depends on more than those fields
// are read whole and replayed one event at a time, in the order they arrived: a route filter on
// another field, or a tracked route whose evaluated transforms (filter, dedup) would run. The
// counts are the ones a replay of every event would give (traffic.test.ts checks both agree).

import type { OrgEvent } from '../../providers/types.js';
import { DEFAULT_DEDUP_KEY } from '../../providers/transforms/dedup.js';
import { IRREGULAR_PLATFORM_EVENT } from '../../state/event-columns.js';
import type { EventGroup, Inspection } from '../../state/runtime-plane.js';
import { Router } from '../run/router.js';
import { ChainRunner, notEvaluatedReason, type TrafficRoute } from './traffic-transforms.js';

const PAGE = 5_000;

/** Fields a group has: a route filter on only these is decided on the group. */
const GROUP_FIELDS = new Set(['source', 'type', 'provenance.platform_event', 'hops']);

export interface CountRequest {
  /** the routes of the measured sources, before and after */
  sides: [TrafficRoute[], TrafficRoute[]];
  sources: string[];
  since: string;
  /** routes whose counts are reported */
  counted: ReadonlySet<string>;
  /** routes whose transforms must run: the counted ones and those feeding their dedup memory */
  tracked: ReadonlySet<string>;
  /** some tracked dedup's memory is shared by events of several sources (sourceScopedDedup) */
  crossSource: boolean;
  /** replay every event (the reference the grouped counts are tested against) */
  perEvent?: boolean;
}

export interface Counts {
  scanned: number;
  /** per side: deliveries per counted route, and its matches its transforms dropped */
  matched: [Map<string, number>, Map<string, number>];
  dropped: [Map<string, number>, Map<string, number>];
  /** events some route's `when` matched before and none after, per source and event name */
  unrouted: Map<string, { source: string; event: string; count: number }>;
  /** how many events were read whole (for the benchmark and tests; not reported) */
  replayed: number;
}

/** A route as the group router sees it: its filter cut to the fields a group has. */
interface Candidate {
  name: string;
  source: string;
  events: string[];
  filter?: Record<string, unknown>;
  route: TrafficRoute;
  /** its filter tests a field a group does not have */
  needsEvent: boolean;
  /** some transform of its chain runs over stored events */
  evaluated: boolean;
}

function candidate(route: TrafficRoute): Candidate {
  const entries = Object.entries(route.filter ?? {});
  const kept = entries.filter(([path]) => GROUP_FIELDS.has(path));
  return {
    name: route.name,
    source: route.source,
    events: route.events,
    ...(kept.length ? { filter: Object.fromEntries(kept) } : {}),
    route,
    needsEvent: kept.length < entries.length,
    evaluated: route.transforms.some((t) => notEvaluatedReason(t) === null),
  };
}

/** What routes see of a group's events. */
function groupEvent(g: EventGroup): OrgEvent {
  return { source: g.source, type: g.type, hops: g.hops, provenance: g.platform_event === null ? {} : { platform_event: g.platform_event } } as unknown as OrgEvent;
}

const groupKey = (source: string, type: string, pe: string | null, hops: number) => `${source}\u0000${type}\u0000${pe ?? '\u0001'}\u0000${hops}`;
const unroutedName = (pe: unknown, type: string) => String(typeof pe === 'string' ? pe : type);

export async function countTraffic(store: Pick<Inspection, 'eventGroups' | 'eventsReceived'>, req: CountRequest): Promise<Counts> {
  const counts: Counts = { scanned: 0, matched: [new Map(), new Map()], dropped: [new Map(), new Map()], unrouted: new Map(), replayed: 0 };
  const add = (m: Map<string, number>, k: string, n: number) => m.set(k, (m.get(k) ?? 0) + n);
  const addUnrouted = (source: string, event: string, n: number) => {
    const key = `${source}\u0000${event}`;
    const u = counts.unrouted.get(key) ?? { source, event, count: 0 };
    u.count += n;
    counts.unrouted.set(key, u);
  };

  const groupRouters = req.sides.map((routes) => new Router(routes.map(candidate)));
  const replay = new Set<string>();
  const replaySources = new Set<string>();
  for (const g of await store.eventGroups({ since: req.since, sources: req.sources })) {
    counts.scanned += g.count;
    const cands = groupRouters.map((r) => r.match(groupEvent(g)));
    // whether some route's `when` matches, per side: yes, no, or only the event can tell
    const hit = cands.map((cs) => (cs.some((c) => !c.needsEvent) ? 'yes' : cs.length ? 'maybe' : 'no'));
    const unroutedOpen = (hit[0] === 'maybe' && hit[1] !== 'yes') || (hit[1] === 'maybe' && hit[0] !== 'no');
    const needsEvent =
      req.perEvent ||
      g.platform_event === IRREGULAR_PLATFORM_EVENT ||
      unroutedOpen ||
      cands.some((cs) => cs.some((c) => req.tracked.has(c.name) && (c.needsEvent || (c.evaluated && g.hops <= c.route.maxHops))));
    if (needsEvent) {
      replay.add(groupKey(g.source, g.type, g.platform_event, g.hops));
      replaySources.add(g.source);
      continue;
    }
    cands.forEach((cs, side) => {
      for (const c of cs) if (req.counted.has(c.name) && g.hops <= c.route.maxHops) add(counts.matched[side]!, c.name, g.count);
    });
    if (hit[0] === 'yes' && hit[1] === 'no') {
      // every event of the group carries the same name; the alias Router matched is not the name shown
      addUnrouted(g.source, unroutedName(g.platform_event, g.type), g.count);
    }
  }
  if (!replay.size) return counts;

  // The groups above, one event at a time, in the order they arrived (dedup memory depends on
  // it). When no tracked dedup's memory crosses sources, each source is replayed on its own with
  // its own memory, read through the (source, received_at) index; else one walk of the window.
  const replaySide = (routes: TrafficRoute[]) => ({ router: new Router(routes), chains: new ChainRunner() });
  const walk = async (sources: string[] | null) => {
    const sides = req.sides.map(replaySide);
    let after: { received_at: string; id: string } | undefined;
    for (;;) {
      const page = await store.eventsReceived({ since: req.since, sources, after, limit: PAGE });
      for (const row of page) {
        if (!replay.has(groupKey(row.source, row.type, row.platform_event, row.hops))) continue;
        counts.replayed++;
        const event = JSON.parse(row.event_json) as OrgEvent;
        const at = Date.parse(row.received_at);
        const hops = typeof event.hops === 'number' ? event.hops : 0;
        const hit = sides.map((side, i) => {
          const routes = side.router.match(event);
          for (const r of routes) {
            if (hops > r.maxHops || !req.tracked.has(r.name)) continue; // cut by loop protection: never delivered
            const res = r.transforms.length ? side.chains.run(r.transforms, event, at) : null;
            if (req.counted.has(r.name)) add(res && res.decision !== 'pass' ? counts.dropped[i]! : counts.matched[i]!, r.name, 1);
          }
          return routes.length;
        });
        if (hit[0] && !hit[1]) addUnrouted(row.source, unroutedName(event.provenance?.platform_event, event.type), 1);
      }
      if (page.length < PAGE) break;
      const last = page[page.length - 1]!;
      after = { received_at: last.received_at, id: last.id };
    }
  };
  const sources = [...replaySources].sort();
  if (req.crossSource) await walk(sources.length <= 500 ? sources : null);
  else for (const source of sources) await walk([source]);
  return counts;
}

/**
 * Whether a dedup transform's memory can only ever be shared by events of one source: every use
 * of it keys on the same fields and `source` is one of them, so keys of two sources never meet.
 * Its memory then needs no events of sources other than the ones measured.
 */
export function sourceScopedDedup(uses: ReadonlyArray<{ config: Record<string, unknown> }>): boolean {
  const keys = uses.map((u) => {
    const written = u.config.key ?? u.config.fields;
    return JSON.stringify(written === undefined ? DEFAULT_DEDUP_KEY : Array.isArray(written) ? written : [written]);
  });
  return keys.every((k) => k === keys[0]) && (JSON.parse(keys[0] ?? '[]') as unknown[]).includes('source');
}
