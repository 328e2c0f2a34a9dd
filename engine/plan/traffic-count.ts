// Counting a window's events through two sets of routes (a plan's before and after) without
// reading most of them. Routes match on source, event name and hops, and filters commonly test
// the author type; the store keeps these as indexed columns (migrations 010, 011). So the window
// is first counted per distinct (source, type, platform_event, author_type, hops) by the store,
// and each group is decided once on an event made of those fields: through the real Router, and
// through each tracked route's filter transforms that test only those fields. Only the groups
// whose outcome depends on more are read whole and replayed one event at a time, in the order
// they arrived: a route filter or a filter transform on another field, or a dedup (whose memory
// depends on the events before) that some event of the group would reach. The counts are the
// ones a replay of every event would give (traffic-count.test.ts checks both agree).

import type { OrgEvent } from '../../providers/types.js';
import { dedupKeyFields } from '../../providers/transforms/dedup.js';
import { IRREGULAR, MATCH_COLUMNS } from '../../state/event-columns.js';
import type { EventGroup, EventGroupKey, Inspection } from '../../state/runtime-plane.js';
import { Router } from '../run/router.js';
import { ChainRunner, decideOnFields, notEvaluatedReason, type ChainResult, type TrafficRoute } from './traffic-transforms.js';

const PAGE = 5_000;
/** At most this many groups are named to the store per walk (more: it hands out all and they are skipped here). */
const NAMED_GROUPS = 100;

/** Fields a group has: a route filter or filter transform on only these is decided on the group. */
const GROUP_FIELDS: ReadonlySet<string> = new Set(['source', 'type', 'hops', ...MATCH_COLUMNS.map((c) => c.path)]);

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

/** What routes and filters see of a group's events (absent and null are alike to matchers). */
function groupEvent(g: EventGroup): OrgEvent {
  const provenance: Record<string, string> = {};
  if (g.platform_event !== null) provenance.platform_event = g.platform_event;
  if (g.author_type !== null) provenance.author_type = g.author_type;
  return { source: g.source, type: g.type, hops: g.hops, provenance } as unknown as OrgEvent;
}

const groupKey = (g: EventGroupKey) => `${g.source}\u0000${g.type}\u0000${g.platform_event ?? '\u0001'}\u0000${g.author_type ?? '\u0001'}\u0000${g.hops}`;
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
  const replayGroups = new Map<string, EventGroupKey[]>();
  for (const g of await store.eventGroups({ since: req.since, sources: req.sources })) {
    counts.scanned += g.count;
    const event = groupEvent(g);
    const cands = groupRouters.map((r) => r.match(event));
    // whether some route's `when` matches, per side: yes, no, or only the event can tell
    const hit = cands.map((cs) => (cs.some((c) => !c.needsEvent) ? 'yes' : cs.length ? 'maybe' : 'no'));
    const unroutedOpen = (hit[0] === 'maybe' && hit[1] !== 'yes') || (hit[1] === 'maybe' && hit[0] !== 'no');
    // each tracked route the group's events reach: its chain's decision, the same for all of them
    const decided: Array<Map<string, ChainResult>> = [new Map(), new Map()];
    let needsEvent = req.perEvent || g.platform_event === IRREGULAR || g.author_type === IRREGULAR || unroutedOpen;
    for (let side = 0; side < 2 && !needsEvent; side++) {
      for (const c of cands[side]!) {
        if (!req.tracked.has(c.name) || g.hops > c.route.maxHops) continue; // cut by loop protection: never delivered
        const decision = c.needsEvent ? null : c.evaluated ? decideOnFields(c.route.transforms, event, GROUP_FIELDS) : { decision: 'pass' as const, steps: [] };
        if (!decision) {
          needsEvent = true;
          break;
        }
        decided[side]!.set(c.name, decision);
      }
    }
    if (needsEvent) {
      replay.add(groupKey(g));
      let list = replayGroups.get(g.source);
      if (!list) replayGroups.set(g.source, (list = []));
      list.push(g);
      continue;
    }
    decided.forEach((routes, side) => {
      for (const [name, r] of routes) if (req.counted.has(name)) add(r.decision !== 'pass' ? counts.dropped[side]! : counts.matched[side]!, name, g.count);
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
  const routers = req.sides.map((routes) => new Router(routes));
  const walk = async (sources: string[] | null) => {
    // each walk starts with empty dedup memory: it holds the events of its sources alone
    const sides = routers.map((router) => ({ router, chains: new ChainRunner() }));
    // the store skips the other groups' events (SQLite without reading them), when they are few enough to name
    const groups = sources?.flatMap((s) => replayGroups.get(s) ?? []);
    const only = groups && groups.length <= NAMED_GROUPS ? { groups } : {};
    let after: { received_at: string; id: string } | undefined;
    for (;;) {
      const page = await store.eventsReceived({ since: req.since, sources, after, limit: PAGE, ...only });
      for (const row of page) {
        if (!replay.has(groupKey(row))) continue;
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
  const sources = [...replayGroups.keys()].sort();
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
  const keys = uses.map((u) => JSON.stringify(dedupKeyFields(u.config)));
  return keys.every((k) => k === keys[0]) && (JSON.parse(keys[0] ?? '[]') as unknown[]).includes('source');
}
