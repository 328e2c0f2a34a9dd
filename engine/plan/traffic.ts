// What a plan would have done to real traffic: the routes it adds, changes or removes are run,
// before and after, over the events the store received in a window (default the last 7 days).
// Route matching (source, events, filter) is evaluated exactly as the executor's router does;
// transforms are not evaluated (their names are listed), so counts are route matches, i.e.
// deliveries before transforms. Counts and event types only: never payload contents.

import type { OrgEvent } from '../../providers/types.js';
import type { Inspection } from '../../state/runtime-plane.js';
import type { Address, ResourceState, StateSnapshot } from '../graph/types.js';
import { Router, type RoutableRoute } from '../run/router.js';
import type { PlanTraffic, TopologyReport } from './types.js';

export const DEFAULT_TRAFFIC_WINDOW = '7d';
const PAGE = 5_000;

export interface TrafficOptions {
  /** window length in ms and its label as the user wrote it (`7d`) */
  windowMs: number;
  label: string;
  now?: number;
}

interface RouteInfo extends RoutableRoute {
  actor: string;
  transforms: string[];
}

function routesOf(snapshot: StateSnapshot | null): Map<string, RouteInfo> {
  const out = new Map<string, RouteInfo>();
  for (const r of Object.values(snapshot?.resources ?? {})) {
    if (r.kind !== 'route') continue;
    const a = r.attributes as { when?: { source?: string; events?: string[]; filter?: Record<string, unknown> }; then?: { actor?: string }; transforms?: Array<string | { ref: string }> };
    out.set(r.name, {
      name: r.name,
      source: a.when?.source ?? '',
      events: Array.isArray(a.when?.events) ? a.when!.events : [],
      ...(a.when?.filter ? { filter: a.when.filter } : {}),
      actor: a.then?.actor ?? '',
      transforms: (a.transforms ?? []).map((t) => (typeof t === 'string' ? t : t.ref)),
    });
  }
  return out;
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
  const empty: PlanTraffic = { ...base, events: 0, routes: [], actors: [], unrouted: [], loops: [], not_evaluated: [] };
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
  // every route of a relevant source, so "routed by nothing after" is true of the whole project
  const relevant = (m: Map<string, RouteInfo>) => [...m.values()].filter((r) => sources.has(r.source));
  const routerBefore = new Router(relevant(before));
  const routerAfter = new Router(relevant(after));

  const matchedBefore = new Map<string, number>();
  const matchedAfter = new Map<string, number>();
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
      const b = routerBefore.match(event);
      const a = routerAfter.match(event);
      for (const r of b) bump(matchedBefore, r.name);
      for (const r of a) bump(matchedAfter, r.name);
      if (b.length && !a.length) {
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

  const routes = [...changed].sort().map((name) => ({
    route: `route.${name}` as Address,
    matched_before: before.has(name) ? (matchedBefore.get(name) ?? 0) : 0,
    matched_after: after.has(name) ? (matchedAfter.get(name) ?? 0) : 0,
  }));
  const perActor = (m: Map<string, RouteInfo>, counts: Map<string, number>, actor: string) =>
    [...m.values()].filter((r) => r.actor === actor).reduce((n, r) => n + (counts.get(r.name) ?? 0), 0);
  const notEvaluated = new Set<string>();
  for (const name of changed) for (const t of [...(before.get(name)?.transforms ?? []), ...(after.get(name)?.transforms ?? [])]) notEvaluated.add(`transform.${t}`);
  return {
    ...base,
    events: scanned,
    routes,
    actors: [...actors].filter(Boolean).sort().map((actor) => ({
      actor: `actor.${actor}` as Address,
      matched_before: perActor(before, matchedBefore, actor),
      matched_after: perActor(after, matchedAfter, actor),
    })),
    unrouted: [...unrouted.values()].sort((x, y) => y.count - x.count || (x.source + x.event < y.source + y.event ? -1 : 1)),
    loops: cycles.map((c) => ({
      actors: c.actors,
      routes: c.routes,
      events: c.routes.reduce((n, addr) => n + (matchedAfter.get(addr.slice('route.'.length)) ?? 0), 0),
    })),
    not_evaluated: [...notEvaluated].sort(),
  };
}
