// Renaming a resource inside a snapshot (`state mv`, and `moved:` in the project), and the
// runtime rows that go with it: the resource keeps its state under the new address and every
// reference to the old name in other resources is rewritten, so the graph stays whole.

import type { Address, ResourceState, StateSnapshot } from './types.js';
import type { RuntimeRename } from '../../state/store.js';
import { parseAddress } from './address.js';

const NAME_FIELD: Record<string, 'id' | 'name'> = { source: 'id', actor: 'id', transform: 'name', logger: 'name', route: 'name' };

/**
 * Moves `from` to `to` in `snapshot` (mutated; `from` must be there and `to` not). Returns the
 * runtime rows to re-key with it, for sources, routes and actors.
 */
export function moveInSnapshot(snapshot: StateSnapshot, from: Address, to: Address): RuntimeRename | null {
  const a = parseAddress(from)!;
  const b = parseAddress(to)!;
  const r = snapshot.resources[from]!;
  delete snapshot.resources[from];
  r.name = b.name;
  const field = NAME_FIELD[a.kind]!;
  if (typeof r.attributes[field] === 'string') r.attributes[field] = b.name;
  snapshot.resources[to] = r;
  for (const other of Object.values(snapshot.resources)) rewriteReferences(other, a.kind, a.name, b.name, from, to);
  snapshot.resources = Object.fromEntries(Object.entries(snapshot.resources).sort(([x], [y]) => (x < y ? -1 : 1)));
  return a.kind === 'source' || a.kind === 'route' || a.kind === 'actor' ? { kind: a.kind, from: a.name, to: b.name } : null;
}

/**
 * The applied snapshot with the project's `moved:` renames carried out: only those whose old
 * address is applied and new one is not yet (a move already applied is kept in the YAML
 * harmlessly, like Terraform's). Returns the moved copy and the moves that took effect.
 */
export function applyMoves(prior: StateSnapshot, moved: ReadonlyArray<{ from: Address; to: Address }>): { snapshot: StateSnapshot; moves: Array<{ from: Address; to: Address; rename: RuntimeRename | null }> } {
  const live = moved.filter((m) => prior.resources[m.from] && !prior.resources[m.to]);
  if (!live.length) return { snapshot: prior, moves: [] };
  const snapshot = structuredClone(prior);
  return { snapshot, moves: live.map((m) => ({ ...m, rename: moveInSnapshot(snapshot, m.from, m.to) })) };
}

function rewriteReferences(r: ResourceState, kind: string, from: string, to: string, fromAddr: Address, toAddr: Address): void {
  r.depends_on = r.depends_on.map((d) => (d === fromAddr ? toAddr : d)).sort();
  if (r.kind !== 'route') return;
  const attrs = r.attributes as { when?: { source?: unknown }; then?: { actor?: unknown }; transforms?: unknown };
  // a route's when.source names a source, or an actor for actor.stopped
  if ((kind === 'source' || kind === 'actor') && attrs.when?.source === from && r.depends_on.includes(toAddr)) attrs.when.source = to;
  if (kind === 'actor' && attrs.then?.actor === from) attrs.then.actor = to;
  if (kind === 'transform' && Array.isArray(attrs.transforms)) {
    attrs.transforms = attrs.transforms.map((t) =>
      t === from ? to : t && typeof t === 'object' && (t as { ref?: unknown }).ref === from ? { ...(t as object), ref: to } : t,
    );
  }
}
