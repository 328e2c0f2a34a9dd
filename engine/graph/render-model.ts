// The routing topology as a picture model: sources -> routes -> actors, transforms on the
// route -> actor edge, and `actor.stopped` loops drawn from an actor back to the routes it
// feeds. Built from the loaded project, an applied snapshot, or a plan (before + after, with
// every node and edge marked added / changed / removed). Renderers (Mermaid, dot) only draw it.

import type { Plan } from '../plan/types.js';
import type { Address, LoadedProject, ResourceKind, ResourceState, StateSnapshot } from './types.js';

export type Mark = 'create' | 'update' | 'delete' | 'replace';

/** The subset of a resource the picture needs; `attrs` is the normalized spec. */
export interface TopoResource {
  address: Address;
  kind: ResourceKind;
  name: string;
  provider: string;
  attrs: Record<string, unknown>;
}

export type NodeKind = 'source' | 'route' | 'actor' | 'missing';

export interface TopoNode {
  /** unique, [A-Za-z0-9_] only: safe as a Mermaid or dot identifier */
  id: string;
  address: Address;
  kind: NodeKind;
  name: string;
  provider: string;
  mark?: Mark;
}

export type EdgeKind = 'event' | 'deliver' | 'loop';

export interface TopoEdge {
  from: string;
  to: string;
  kind: EdgeKind;
  label: string;
  /** create = only after the plan, delete = only before it */
  mark?: 'create' | 'delete';
}

export interface Topology {
  nodes: TopoNode[];
  edges: TopoEdge[];
  /** loggers see every step; listed, not drawn as edges */
  loggers: string[];
}

export function fromSnapshot(snapshot: StateSnapshot): TopoResource[] {
  return Object.entries(snapshot.resources).map(([address, r]) => fromState(address, r));
}

function fromState(address: Address, r: ResourceState): TopoResource {
  return { address, kind: r.kind, name: r.name, provider: r.provider, attrs: r.attributes };
}

export function fromProject(project: LoadedProject): TopoResource[] {
  return project.resources.map((r) => ({
    address: r.address,
    kind: r.kind,
    name: r.name,
    provider: r.provider,
    attrs: r.spec as unknown as Record<string, unknown>,
  }));
}

/** The resources before and after a plan, and the action on each changed address. */
export function fromPlan(plan: Plan): { before: TopoResource[]; after: TopoResource[]; actions: Map<Address, Mark> } {
  const after = fromSnapshot(plan.desired);
  const before = new Map(after.map((r) => [r.address, r]));
  const actions = new Map<Address, Mark>();
  for (const c of plan.changes) {
    actions.set(c.address, c.action);
    if (c.action === 'create') before.delete(c.address);
    else if (c.before) before.set(c.address, fromState(c.address, c.before));
  }
  return { before: [...before.values()], after, actions };
}

// ---- building ----

interface RouteShape {
  source: string | null;
  events: string[];
  filtered: boolean;
  transforms: string[];
  actor: string | null;
}

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function routeShape(attrs: Record<string, unknown>): RouteShape {
  const when = obj(attrs.when);
  const then = obj(attrs.then);
  const events = Array.isArray(when.events) ? when.events.filter((e): e is string => typeof e === 'string') : [];
  const transforms = Array.isArray(attrs.transforms)
    ? attrs.transforms
        .map((t) => (typeof t === 'string' ? t : typeof obj(t).ref === 'string' ? (obj(t).ref as string) : null))
        .filter((t): t is string => t !== null)
    : [];
  return {
    source: typeof when.source === 'string' ? when.source : null,
    events,
    filtered: Object.keys(obj(when.filter)).length > 0,
    transforms,
    actor: typeof then.actor === 'string' ? then.actor : null,
  };
}

/** Stable, unique identifiers made only of [A-Za-z0-9_], whatever the resource names are. */
class IdAllocator {
  private used = new Set<string>();
  private byAddress = new Map<string, string>();

  id(prefix: string, key: string, name: string): string {
    const known = this.byAddress.get(key);
    if (known) return known;
    const base = `${prefix}_${name.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'x'}`;
    let id = base;
    for (let n = 2; this.used.has(id); n++) id = `${base}_${n}`;
    this.used.add(id);
    this.byAddress.set(key, id);
    return id;
  }
}

interface Side {
  nodes: Map<string, Omit<TopoNode, 'id' | 'mark'>>;
  edges: Map<string, { from: string; to: string; kind: EdgeKind; label: string }>;
  loggers: string[];
}

/** Node keys are addresses; edge keys identify an edge by its ends, kind and label. */
function side(resources: TopoResource[]): Side {
  const nodes: Side['nodes'] = new Map();
  const edges: Side['edges'] = new Map();
  const byKind = (k: ResourceKind) => new Map(resources.filter((r) => r.kind === k).map((r) => [r.name, r]));
  const sources = byKind('source');
  const actors = byKind('actor');
  for (const r of resources) {
    if (r.kind === 'source' || r.kind === 'actor') nodes.set(r.address, { address: r.address, kind: r.kind, name: r.name, provider: r.provider });
  }
  const routes = resources.filter((r) => r.kind === 'route').sort((a, b) => (a.address < b.address ? -1 : 1));
  for (const r of routes) {
    const shape = routeShape(r.attrs);
    nodes.set(r.address, { address: r.address, kind: 'route', name: r.name, provider: 'route' });
    // A route's `when.source` names a source, or an actor whose actor.stopped events it consumes.
    const fromActor =
      shape.source !== null && actors.has(shape.source) && (!sources.has(shape.source) || shape.events.includes('actor.stopped'));
    const fromAddr = shape.source === null ? null : fromActor ? `actor.${shape.source}` : `source.${shape.source}`;
    if (fromAddr) {
      if (!nodes.has(fromAddr)) nodes.set(fromAddr, { address: fromAddr, kind: 'missing', name: shape.source!, provider: '?' });
      const label = shape.events.join(', ') + (shape.filtered ? ' (filtered)' : '');
      const kind: EdgeKind = fromActor ? 'loop' : 'event';
      edges.set(`${fromAddr}|${r.address}|${kind}|${label}`, { from: fromAddr, to: r.address, kind, label });
    }
    if (shape.actor !== null) {
      const toAddr = `actor.${shape.actor}`;
      if (!nodes.has(toAddr)) nodes.set(toAddr, { address: toAddr, kind: 'missing', name: shape.actor, provider: '?' });
      const label = shape.transforms.join(' → ');
      edges.set(`${r.address}|${toAddr}|deliver|${label}`, { from: r.address, to: toAddr, kind: 'deliver', label });
    }
  }
  const loggers = resources.filter((r) => r.kind === 'logger').map((r) => r.name).sort();
  return { nodes, edges, loggers };
}

const PREFIX: Record<NodeKind, string> = { source: 's', route: 'r', actor: 'a', missing: 'm' };
const ORDER: Record<NodeKind, number> = { source: 0, route: 1, actor: 2, missing: 3 };

function assemble(before: Side | null, after: Side, actions: Map<Address, Mark>): Topology {
  const ids = new IdAllocator();
  const all = new Map(after.nodes);
  if (before) for (const [k, n] of before.nodes) if (!all.has(k)) all.set(k, n);
  const sorted = [...all.values()].sort((a, b) => ORDER[a.kind] - ORDER[b.kind] || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  const nodes: TopoNode[] = sorted.map((n) => {
    const node: TopoNode = { ...n, id: ids.id(PREFIX[n.kind], n.address, n.name) };
    if (before) {
      const inBefore = before.nodes.has(n.address);
      const inAfter = after.nodes.has(n.address);
      const action = actions.get(n.address);
      if (!inBefore && inAfter) node.mark = 'create';
      else if (inBefore && !inAfter) node.mark = 'delete';
      else if (action === 'update' || action === 'replace') node.mark = action;
    }
    return node;
  });
  const idOf = (address: string) => ids.id('m', address, address);
  const edges: TopoEdge[] = [];
  for (const [k, e] of after.edges) {
    const edge: TopoEdge = { from: idOf(e.from), to: idOf(e.to), kind: e.kind, label: e.label };
    if (before && !before.edges.has(k)) edge.mark = 'create';
    edges.push(edge);
  }
  if (before) {
    for (const [k, e] of before.edges) {
      if (!after.edges.has(k)) edges.push({ from: idOf(e.from), to: idOf(e.to), kind: e.kind, label: e.label, mark: 'delete' });
    }
  }
  const loggers = [...new Set([...(before?.loggers ?? []), ...after.loggers])].sort();
  return { nodes, edges, loggers };
}

export function buildTopology(resources: TopoResource[]): Topology {
  return assemble(null, side(resources), new Map());
}

/** The union of two topologies with what a plan adds, changes and removes marked. */
export function buildPlanTopology(before: TopoResource[], after: TopoResource[], actions: Map<Address, Mark>): Topology {
  return assemble(side(before), side(after), actions);
}

/**
 * Only what changed: marked nodes and edges, plus the nodes those edges connect, so a PR
 * comment shows the affected part of a large topology.
 */
export function focusChanged(t: Topology): Topology {
  const marked = new Set(t.nodes.filter((n) => n.mark).map((n) => n.id));
  const edges = t.edges.filter((e) => e.mark || marked.has(e.from) || marked.has(e.to));
  const keep = new Set(marked);
  for (const e of edges) {
    keep.add(e.from);
    keep.add(e.to);
  }
  return { nodes: t.nodes.filter((n) => keep.has(n.id)), edges, loggers: [] };
}
