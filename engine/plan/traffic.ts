// What a plan would have done to real traffic: the routes it adds, changes or removes are run,
// before and after, over the events the store received in a window (default the last 7 days).
// Route matching (source, events, filter, max_hops) is the executor's router; each matched
// route's pure transforms (filter, dedup) run too (traffic-transforms.ts), so counts are the
// deliveries the route would have made. Transforms that are not run (script, enrich...) are
// named and pass everything. Counts and event types only: never payload contents.

import type { OrgEvent } from '../../providers/types.js';
import type { Inspection } from '../../state/runtime-plane.js';
import type { Address, ResourceState, StateSnapshot } from '../graph/types.js';
import { DEFAULT_MAX_HOPS } from '../run/graph.js';
import { Router } from '../run/router.js';
import { ChainRunner, notEvaluatedReason, trafficRoutes, type TrafficRoute } from './traffic-transforms.js';
import type { PlanTraffic, TopologyReport } from './types.js';

export const DEFAULT_TRAFFIC_WINDOW = '7d';
const PAGE = 5_000;

export interface TrafficOptions {
  /** window length in ms and its label as the user wrote it (`7d`) */
  windowMs: number;
  label: string;
  now?: number;
}

function routesOf(snapshot: StateSnapshot | null): Map<string, TrafficRoute> {
  const resources = Object.values(snapshot?.resources ?? {}).map((r) => ({ kind: r.kind, name: r.name, provider: r.provider, spec: r.attributes as Record<string, any> }));
  return trafficRoutes(resources, DEFAULT_MAX_HOPS);
}

const same = (a: ResourceState | undefined, b: ResourceState | undefined) => JSON.stringify(a?.attributes) === JSON.stringify(b?.attributes);

/**
 * Traffic for a plan from `prior` to `desired`: per added/changed/removed route and per actor
 * whose inbound routes change, events matched before and after; event types routed before and
 * by nothing after; and how often each new actor.stopped loop would have fired.
 */
export async function measureTraffic(
  store: Pick<Inspection, 'eventsReceived' | 'events'>,
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
  for (const name of new Set([...before.keys(), ...after.keys()])) {
    if (!same(prior?.resources[`route.${name}`], desired.resources[`route.${name}`])) changed.add(name);
  }
  const empty: PlanTraffic = { ...base, events: 0, routes: [], actors: [], unrouted: [], loops: [], transforms: [], not_evaluated: [] };
  if (!changed.size) return empty;
  if (!(await store.events({ limit: 1 })).length) return { ...empty, skipped: 'the state store holds no events yet (no runtime data)' };

  const cycles = newCycles();
  const actors = new Set<string>();
  const sources = new Set<string>();
  for (const name of changed) {
    for (const r of [before.get(name), after.get(name)]) {
      if (!r) continue;
      actors.add(r.actor);
      sources.add(r.source);
    }
  }
  for (const c of cycles) for (const addr of c.routes) sources.add(after.get(addr.slice('route.'.length))?.source ?? '');
  // a dedup transform remembers the events of every route that uses it: replay those too
  const dedups = new Set<string>();
  for (const name of changed) for (const r of [before.get(name), after.get(name)]) for (const t of r?.transforms ?? []) if (t.type === 'dedup') dedups.add(t.name);
  for (const m of [before, after]) for (const r of m.values()) if (r.transforms.some((t) => dedups.has(t.name))) sources.add(r.source);
  // every route of a relevant source, so "routed by nothing after" is true of the whole project
  const relevant = (m: Map<string, TrafficRoute>) => [...m.values()].filter((r) => sources.has(r.source));
  const sides = [
    { router: new Router(relevant(before)), chains: new ChainRunner(), matched: new Map<string, number>(), dropped: new Map<string, number>() },
    { router: new Router(relevant(after)), chains: new ChainRunner(), matched: new Map<string, number>(), dropped: new Map<string, number>() },
  ];
  const unrouted = new Map<string, { source: string; event: string; count: number }>();
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  let scanned = 0;
  let after_: { received_at: string; id: string } | undefined;
  const list = [...sources].filter(Boolean);
  for (;;) {
    const page = await store.eventsReceived({ since, sources: list.length <= 500 ? list : null, after: after_, limit: PAGE });
    for (const row of page) {
      if (!sources.has(row.source)) continue;
      scanned++;
      const event = JSON.parse(row.event_json) as OrgEvent;
      const at = Date.parse(row.received_at);
      const hops = typeof event.hops === 'number' ? event.hops : 0;
      const hit = sides.map((side) => {
        const routes = side.router.match(event);
        for (const r of routes) {
          if (hops > r.maxHops) continue; // cut by loop protection: never delivered
          const res = r.transforms.length ? side.chains.run(r.transforms, event, at) : null;
          bump(res && res.decision !== 'pass' ? side.dropped : side.matched, r.name);
        }
        return routes.length;
      });
      if (hit[0] && !hit[1]) {
        const name = event.provenance?.platform_event ?? event.type;
        const key = `${row.source}\u0000${name}`;
        const u = unrouted.get(key) ?? { source: `${row.source}`, event: String(name), count: 0 };
        u.count++;
        unrouted.set(key, u);
      }
    }
    if (page.length < PAGE) break;
    const last = page[page.length - 1]!;
    after_ = { received_at: last.received_at, id: last.id };
  }

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
  const perActor = (m: Map<string, TrafficRoute>, counts: Map<string, number>, actor: string) =>
    [...m.values()].filter((r) => r.actor === actor).reduce((n, r) => n + (counts.get(r.name) ?? 0), 0);
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
