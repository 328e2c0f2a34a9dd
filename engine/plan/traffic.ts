// What a plan would have done to real traffic: the routes it adds, changes or removes are run,
// before and after, over the events the store received in a window (default the last 7 days).
// Route matching (source, events, filter, max_hops) is the executor's router; each matched
// route's pure transforms (filter, dedup) run too (traffic-transforms.ts), so counts are the
// deliveries the route would have made. Transforms that are not run (script, enrich...) are
// named and pass everything. Counts and event types only: never payload contents.
// The window is counted per (source, type, platform_event, hops) from an index, and only the
// events a tracked route's payload filter or transforms could decide are read and replayed
// (traffic-count.ts); this module picks the sources and routes that need measuring.

import type { Inspection } from '../../state/runtime-plane.js';
import type { Address, ResourceState, StateSnapshot } from '../graph/types.js';
import { DEFAULT_MAX_HOPS } from '../run/graph.js';
import { countTraffic, sourceScopedDedup } from './traffic-count.js';
import { notEvaluatedReason, trafficRoutes, type TrafficRoute, type TrafficTransform } from './traffic-transforms.js';
import type { PlanTraffic, TopologyReport } from './types.js';

export const DEFAULT_TRAFFIC_WINDOW = '7d';

export interface TrafficOptions {
  /** window length in ms and its label as the user wrote it (`7d`) */
  windowMs: number;
  label: string;
  now?: number;
  /** replay every event instead of counting groups (the reference for tests) */
  perEvent?: boolean;
  /** the routes whose declaration changed (a plan's changes): only these are compared */
  changedRoutes?: ReadonlySet<string>;
}

function routesOf(snapshot: StateSnapshot | null): Map<string, TrafficRoute> {
  const resources = Object.values(snapshot?.resources ?? {}).map((r) => ({ kind: r.kind, name: r.name, provider: r.provider, spec: r.attributes as Record<string, any> }));
  return trafficRoutes(resources, DEFAULT_MAX_HOPS);
}

/** Each evaluated dedup transform's uses (its config as each route runs it), by name. */
function dedupUses(routes: TrafficRoute[]): Map<string, TrafficTransform[]> {
  const uses = new Map<string, TrafficTransform[]>();
  for (const r of routes) {
    for (const t of r.transforms) {
      if (t.type !== 'dedup' || notEvaluatedReason(t) !== null) continue;
      let list = uses.get(t.name);
      if (!list) uses.set(t.name, (list = []));
      list.push(t);
    }
  }
  return uses;
}

const same = (a: ResourceState | undefined, b: ResourceState | undefined) => JSON.stringify(a?.attributes) === JSON.stringify(b?.attributes);

/**
 * Traffic for a plan from `prior` to `desired`: per added/changed/removed route and per actor
 * whose inbound routes change, events matched before and after; event types routed before and
 * by nothing after; and how often each new actor.stopped loop would have fired.
 */
export async function measureTraffic(
  store: Pick<Inspection, 'eventsReceived' | 'eventGroups'>,
  prior: StateSnapshot | null,
  desired: StateSnapshot,
  newCycles: () => TopologyReport['new_cycles'],
  opts: TrafficOptions,
): Promise<PlanTraffic> {
  const until = opts.now ?? Date.now();
  const since = new Date(until - opts.windowMs).toISOString();
  const base = { window: opts.label, since, until: new Date(until).toISOString() };
  const before = routesOf(prior);
  const after = routesOf(desired);
  const changed = new Set<string>();
  for (const name of opts.changedRoutes ?? new Set([...before.keys(), ...after.keys()])) {
    if (!same(prior?.resources[`route.${name}`], desired.resources[`route.${name}`])) changed.add(name);
  }
  const empty: PlanTraffic = { ...base, events: 0, routes: [], actors: [], unrouted: [], loops: [], transforms: [], not_evaluated: [] };
  if (!changed.size) return empty;
  // the oldest event, from the received_at index (`events` orders newest first and would sort them all)
  if (!(await store.eventsReceived({ since: '', sources: null, limit: 1 })).length) return { ...empty, skipped: 'the state store holds no events yet (no runtime data)' };

  const cycles = newCycles();
  const sources = new Set<string>();
  for (const name of changed) for (const r of [before.get(name), after.get(name)]) if (r) sources.add(r.source);
  for (const c of cycles) for (const addr of c.routes) sources.add(after.get(addr.slice('route.'.length))?.source ?? '');
  const actors = new Set<string>();
  for (const name of changed) for (const r of [before.get(name), after.get(name)]) if (r) actors.add(r.actor);

  // Counted: the changed routes, the routes of their actors and of new loops. Tracked: those, and
  // every route feeding the memory of a dedup one of them runs (through its own dedups too). A
  // dedup keyed by source needs no other source's events; any other brings in its routes' sources.
  const counted = new Set<string>([...changed, ...cycles.flatMap((c) => c.routes.map((a) => a.slice('route.'.length)))]);
  const tracked = new Set<string>();
  const all = [...before.values(), ...after.values()];
  const uses = dedupUses(all);
  const scoped = new Map([...uses].map(([name, list]) => [name, sourceScopedDedup(list)]));
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of all) if (sources.has(r.source) && actors.has(r.actor)) counted.add(r.name);
    const scopes = new Set<string>();
    for (const r of all) if (counted.has(r.name) || tracked.has(r.name)) for (const t of r.transforms) if (uses.has(t.name)) scopes.add(t.name);
    for (const r of all) {
      if (!(counted.has(r.name) || r.transforms.some((t) => scopes.has(t.name)))) continue;
      if (!tracked.has(r.name)) {
        tracked.add(r.name);
        grew = true;
      }
      const widens = r.transforms.some((t) => scopes.has(t.name) && !scoped.get(t.name));
      if (widens && !sources.has(r.source)) {
        sources.add(r.source);
        grew = true;
      }
    }
  }
  for (const r of all) if (!sources.has(r.source)) tracked.delete(r.name);

  // every route of a measured source, so "routed by nothing after" is true of the whole project
  const relevant = (m: Map<string, TrafficRoute>) => [...m.values()].filter((r) => sources.has(r.source));
  const counts = await countTraffic(store, {
    sides: [relevant(before), relevant(after)],
    sources: [...sources].filter(Boolean),
    since,
    counted,
    tracked,
    crossSource: all.some((r) => tracked.has(r.name) && r.transforms.some((t) => scoped.get(t.name) === false)),
    ...(opts.perEvent ? { perEvent: true } : {}),
  });
  const inbound = new Map<string, Set<string>>();
  for (const r of all) {
    if (!counted.has(r.name)) continue;
    let set = inbound.get(r.actor);
    if (!set) inbound.set(r.actor, (set = new Set()));
    set.add(r.name);
  }
  const unrouted = counts.unrouted;
  const scanned = counts.scanned;
  const sides = [0, 1].map((i) => ({ matched: counts.matched[i]!, dropped: counts.dropped[i]! }));

  const [b, a] = sides as [(typeof sides)[0], (typeof sides)[0]];
  const routes = [...changed].sort().map((name) => {
    const withTransforms = !!(before.get(name)?.transforms.length || after.get(name)?.transforms.length);
    return {
      route: `route.${name}` as Address,
      matched_before: before.has(name) ? (b.matched.get(name) ?? 0) : 0,
      matched_after: after.has(name) ? (a.matched.get(name) ?? 0) : 0,
      ...(withTransforms ? { dropped_before: b.dropped.get(name) ?? 0, dropped_after: a.dropped.get(name) ?? 0 } : {}),
    };
  });
  const perActor = (m: Map<string, TrafficRoute>, counts: Map<string, number>, actor: string) => {
    let n = 0;
    for (const r of inbound.get(actor) ?? []) if (m.get(r)?.actor === actor) n += counts.get(r) ?? 0;
    return n;
  };
  const transforms = new Map<string, PlanTraffic['transforms'][number]>();
  for (const name of changed) {
    for (const t of [...(before.get(name)?.transforms ?? []), ...(after.get(name)?.transforms ?? [])]) {
      const reason = notEvaluatedReason(t);
      const address = `transform.${t.name}` as Address;
      // one line per transform; a route-level config override that cannot run wins
      if (!transforms.has(address) || reason) transforms.set(address, { transform: address, type: t.type, evaluated: reason === null, ...(reason ? { reason } : {}) });
    }
  }
  const listed = [...transforms.values()].sort((x, y) => (x.transform < y.transform ? -1 : 1));
  return {
    ...base,
    events: scanned,
    routes,
    actors: [...actors].filter(Boolean).sort().map((actor) => ({
      actor: `actor.${actor}` as Address,
      matched_before: perActor(before, b.matched, actor),
      matched_after: perActor(after, a.matched, actor),
    })),
    unrouted: [...unrouted.values()].sort((x, y) => y.count - x.count || (x.source + x.event < y.source + y.event ? -1 : 1)),
    loops: cycles.map((c) => ({
      actors: c.actors,
      routes: c.routes,
      events: c.routes.reduce((n, addr) => n + (a.matched.get(addr.slice('route.'.length)) ?? 0), 0),
    })),
    transforms: listed,
    not_evaluated: listed.filter((t) => !t.evaluated).map((t) => t.transform),
  };
}
