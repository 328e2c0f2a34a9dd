// What a snapshot's routing looks like, and what a change does to it: dependency order for
// apply, and the topology warnings every plan carries (DESIGN §5).

import type { Address, ResourceState, StateSnapshot } from './types.js';
import { compareAddresses } from './address.js';
import type { InFlight, TopologyReport } from '../plan/types.js';

type Resources = Record<Address, ResourceState>;

/** Addresses with dependencies before dependents; ties broken by display order. */
export function dependencyOrder(resources: Resources): Address[] {
  const addrs = Object.keys(resources).sort(compareAddresses);
  const indegree = new Map<Address, number>();
  const dependents = new Map<Address, Address[]>();
  for (const a of addrs) indegree.set(a, 0);
  for (const a of addrs) {
    for (const d of resources[a].depends_on ?? []) {
      if (!indegree.has(d) || d === a) continue;
      indegree.set(a, indegree.get(a)! + 1);
      (dependents.get(d) ?? dependents.set(d, []).get(d)!).push(a);
    }
  }
  const ready = addrs.filter((a) => indegree.get(a) === 0);
  const out: Address[] = [];
  // ready stays sorted by kind order because kinds depend "downwards" (routes on actors...)
  for (let i = 0; i < ready.length; i++) {
    const a = ready[i];
    out.push(a);
    for (const dep of dependents.get(a) ?? []) {
      const n = indegree.get(dep)! - 1;
      indegree.set(dep, n);
      if (n === 0) ready.push(dep);
    }
  }
  if (out.length < addrs.length) {
    const seen = new Set(out);
    for (const a of addrs) if (!seen.has(a)) out.push(a); // a dependency cycle: keep going, stable
  }
  return out;
}

interface RouteInfo {
  address: Address;
  source: string;
  events: string[];
  actor: string;
}

interface Index {
  sources: Set<string>;
  actors: Set<string>;
  routes: RouteInfo[];
  bySource: Map<string, RouteInfo[]>;
  inbound: Map<string, number>;
}

function routeInfo(address: Address, r: ResourceState): RouteInfo {
  const a = r.attributes as { when?: { source?: string; events?: string[] }; then?: { actor?: string } };
  const events = a.when?.events ?? [];
  return {
    address,
    source: String(a.when?.source ?? ''),
    events: events.length ? events.map(String) : ['*'],
    actor: String(a.then?.actor ?? ''),
  };
}

function index(snapshot: StateSnapshot | null): Index {
  const ix: Index = { sources: new Set(), actors: new Set(), routes: [], bySource: new Map(), inbound: new Map() };
  if (!snapshot) return ix;
  for (const [address, r] of Object.entries(snapshot.resources)) {
    if (r.kind === 'source') ix.sources.add(r.name);
    else if (r.kind === 'actor') ix.actors.add(r.name);
    else if (r.kind === 'route') {
      const info = routeInfo(address, r);
      ix.routes.push(info);
      (ix.bySource.get(info.source) ?? ix.bySource.set(info.source, []).get(info.source)!).push(info);
      ix.inbound.set(info.actor, (ix.inbound.get(info.actor) ?? 0) + 1);
    }
  }
  return ix;
}

/** `source.x` for a declared source; `actor.x` when the route listens to an actor's actor.stopped. */
function emitterAddress(ix: Index, id: string): Address | null {
  if (ix.sources.has(id)) return `source.${id}`;
  if (ix.actors.has(id)) return `actor.${id}`;
  return null;
}

function routedEvents(ix: Index, id: string): Set<string> {
  const out = new Set<string>();
  for (const r of ix.bySource.get(id) ?? []) for (const e of r.events) out.add(e);
  return out;
}

/** Strongly connected groups of actors linked by routes on their actor.stopped events. */
function actorLoops(ix: Index): Array<{ actors: string[]; routes: Address[] }> {
  const edges = new Map<string, RouteInfo[]>();
  for (const r of ix.routes) {
    if (!ix.actors.has(r.source) || ix.sources.has(r.source)) continue;
    if (!r.events.includes('actor.stopped') && !r.events.includes('*')) continue;
    (edges.get(r.source) ?? edges.set(r.source, []).get(r.source)!).push(r);
  }
  // Tarjan's SCC, iterative so a 500-actor chain cannot overflow the stack.
  let counter = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const groups: string[][] = [];
  for (const start of [...edges.keys()].sort()) {
    if (idx.has(start)) continue;
    const work: Array<{ v: string; i: number }> = [{ v: start, i: 0 }];
    idx.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const top = work[work.length - 1];
      const out = edges.get(top.v) ?? [];
      if (top.i < out.length) {
        const w = out[top.i++].actor;
        if (!idx.has(w)) {
          idx.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) {
          low.set(top.v, Math.min(low.get(top.v)!, idx.get(w)!));
        }
      } else {
        work.pop();
        if (work.length) {
          const parent = work[work.length - 1].v;
          low.set(parent, Math.min(low.get(parent)!, low.get(top.v)!));
        }
        if (low.get(top.v) === idx.get(top.v)) {
          const group: string[] = [];
          let w: string;
          do {
            w = stack.pop()!;
            onStack.delete(w);
            group.push(w);
          } while (w !== top.v);
          groups.push(group);
        }
      }
    }
  }
  const loops: Array<{ actors: string[]; routes: Address[] }> = [];
  for (const g of groups) {
    const members = new Set(g);
    const routes = g.flatMap((a) => (edges.get(a) ?? []).filter((r) => members.has(r.actor)).map((r) => r.address));
    if (g.length > 1 || routes.length > 0) loops.push({ actors: g.sort(), routes: routes.sort() });
  }
  return loops;
}

export function analyzeTopology(prior: StateSnapshot | null, desired: StateSnapshot): TopologyReport {
  const before = index(prior);
  const after = index(desired);
  const report: TopologyReport = {
    unrouted_sources: [],
    unrouted_event_types: [],
    actors_without_routes: [],
    new_cycles: [],
    fanout_changes: [],
    in_flight: null,
  };

  for (const s of [...after.sources].sort()) {
    const n = after.bySource.get(s)?.length ?? 0;
    if (n === 0) {
      const wasNew = !before.sources.has(s) || (before.bySource.get(s)?.length ?? 0) > 0;
      report.unrouted_sources.push({ source: `source.${s}`, new: wasNew });
    }
    const was = before.bySource.get(s)?.length ?? 0;
    if (before.sources.has(s) && was !== n) report.fanout_changes.push({ source: `source.${s}`, before: was, after: n });
  }

  const emitters = new Set([...before.bySource.keys()]);
  for (const id of [...emitters].sort()) {
    const addr = emitterAddress(after, id);
    if (!addr) continue; // the emitter itself is gone: nothing left unrouted
    const now = routedEvents(after, id);
    if (now.has('*')) continue;
    for (const e of [...routedEvents(before, id)].sort()) {
      if (!now.has(e)) report.unrouted_event_types.push({ source: addr, event: e });
    }
  }

  for (const a of [...after.actors].sort()) {
    if ((after.inbound.get(a) ?? 0) > 0) continue;
    const wasNew = !before.actors.has(a) || (before.inbound.get(a) ?? 0) > 0;
    report.actors_without_routes.push({ actor: `actor.${a}`, new: wasNew });
  }

  const priorLoops = new Set(actorLoops(before).map((l) => l.actors.join('\u0000')));
  for (const loop of actorLoops(after)) {
    if (priorLoops.has(loop.actors.join('\u0000'))) continue;
    report.new_cycles.push({ actors: loop.actors.map((a) => `actor.${a}`), routes: loop.routes });
  }
  return report;
}

const ACTIVE = new Set(['pending', 'leased', 'retry']);

/**
 * In-flight work a plan affects, from the store's delivery counts. Deliveries on removed
 * routes drain (they were routed under an applied version); those to removed actors are
 * cancelled by the executor, since there is nobody left to deliver to.
 */
export function inFlightImpact(
  prior: StateSnapshot | null,
  desired: StateSnapshot,
  counts: Array<{ route: string; status: string; count: number }>,
): InFlight {
  const removedActors = new Set<string>();
  if (prior) {
    for (const [addr, r] of Object.entries(prior.resources)) {
      if (r.kind === 'actor' && !desired.resources[addr]) removedActors.add(r.name);
    }
  }
  const perRoute = new Map<string, number>();
  for (const c of counts) {
    if (!ACTIVE.has(c.status)) continue;
    perRoute.set(c.route, (perRoute.get(c.route) ?? 0) + c.count);
  }
  const result: InFlight = { draining: 0, cancelled: 0, by_route: [] };
  for (const [route, count] of [...perRoute].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const addr = route.startsWith('route.') ? route : `route.${route}`;
    const priorRoute = prior?.resources[addr];
    const actor = priorRoute ? routeInfo(addr, priorRoute).actor : null;
    if (actor && removedActors.has(actor)) {
      result.cancelled += count;
      result.by_route.push({ route: addr, count, fate: 'cancel' });
    } else if (!desired.resources[addr]) {
      result.draining += count;
      result.by_route.push({ route: addr, count, fate: 'drain' });
    }
  }
  return result;
}

/**
 * Pending deliveries (pending, leased, retry) a `moved:` rename carries over: a route's own, or
 * an actor's on every route of `applied` (the snapshot before the move) that delivers to it.
 */
export function pendingOfMove(from: Address, applied: StateSnapshot | null, counts: Array<{ route: string; status: string; count: number }>): number {
  const [kind, name] = [from.slice(0, from.indexOf('.')), from.slice(from.indexOf('.') + 1)];
  let routes: Set<string>;
  if (kind === 'route') routes = new Set([name]);
  else if (kind === 'actor') {
    routes = new Set();
    for (const [addr, r] of Object.entries(applied?.resources ?? {})) if (r.kind === 'route' && routeInfo(addr, r).actor === name) routes.add(r.name);
  } else return 0;
  let n = 0;
  for (const c of counts) if (ACTIVE.has(c.status) && routes.has(c.route.startsWith('route.') ? c.route.slice(6) : c.route)) n += c.count;
  return n;
}
