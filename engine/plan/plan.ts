// Planning against a store: fetch the applied version, refresh the external objects providers
// manage (refresh.ts), gather what only the store knows (old prompt texts, in-flight deliveries,
// the version history) and hand it all to the pure planner, which builds the plan once.
// `planFromProject` is what
// `plan`, `apply` and `up` use; rollback and `diff` call `planAgainstStore` with stored snapshots.

import type { LoadedProject, ResourceState, StateSnapshot } from '../graph/types.js';
import type { Inspection, StateReader } from '../../state/store.js';

/** What planning reads: the applied versions, and for annotations the delivery counters and received events. */
export type PlanStore = StateReader & Pick<Inspection, 'deliveryCounts' | 'eventsReceived' | 'eventGroups' | 'events'>;
import type { ProviderBase } from '../../providers/types.js';
import { attachTraffic, diffSnapshots, type ReplaceOnLookup } from './diff.js';
import { refreshManaged } from './refresh.js';
import { toSnapshot, type SensitiveLookup } from './snapshot.js';
import type { KeySource } from '../secrets/index.js';
import { applyTargeting, type Targeting } from './targets.js';
import type { Plan } from './types.js';
import { measureTraffic, type TrafficOptions } from './traffic.js';
import { applyMoves } from '../graph/move.js';

export interface ProviderHints {
  sensitive: SensitiveLookup;
  replaceOn: ReplaceOnLookup;
  /** the provider itself, for refresh (`read`); without it nothing is refreshed */
  provider?: (kind: ResourceState['kind'], name: string) => ProviderBase | undefined;
}

/** Provider sensitive markers and `replaceOn` lists from the built-in registry (loaded lazily). */
export async function registryHints(): Promise<ProviderHints> {
  const { getProvider } = await import('../../providers/registry.js');
  return {
    sensitive: (kind, name) => (kind === 'route' ? undefined : getProvider(kind, name)),
    replaceOn: (kind, name) => (kind === 'route' ? undefined : getProvider(kind, name)?.replaceOn),
    provider: (kind, name) => (kind === 'route' ? undefined : getProvider(kind, name)),
  };
}

export interface PlanOptions {
  targeting?: Targeting;
  origin?: Plan['origin'];
  hints?: ProviderHints;
  /** warnings to carry into the plan (e.g. the loader's) */
  warnings?: string[];
  /** read managed objects back first (default true; `plan --refresh=false` turns it off) */
  refresh?: boolean;
  /** run the plan over the store's recent events (`plan`; off unless given) */
  traffic?: TrafficOptions;
  /** the state key for hashing sensitive values (engine/secrets/key.ts); asked for only when one is found */
  stateKey?: KeySource;
  /** `moved:` renames from the project: the applied resources are renamed before diffing */
  moved?: ReadonlyArray<{ from: string; to: string }>;
}

function noKey(): never {
  throw new Error('a sensitive value needs hashing, but no state key was given (PlanOptions.stateKey)');
}

export async function planFromProject(store: PlanStore, project: LoadedProject, opts: PlanOptions = {}): Promise<Plan> {
  const meta = await store.meta();
  const hints = opts.hints ?? (await registryHints());
  const desired = toSnapshot(project, { salt: meta.secret_salt, key: opts.stateKey ?? noKey, sensitive: hints.sensitive });
  return planAgainstStore(store, desired.snapshot, desired.blobs, {
    ...opts,
    hints,
    origin: opts.origin ?? { type: 'project', file: project.file },
    warnings: [...(opts.warnings ?? []), ...desired.warnings],
    moved: opts.moved ?? project.moved,
  });
}

/**
 * Plan from the store's current version to `desired`. `blobs` holds prompt texts the store may
 * not have yet (from the project files); the rest are read from the store.
 */
export async function planAgainstStore(
  store: PlanStore,
  desired: StateSnapshot,
  blobs: Record<string, string>,
  opts: PlanOptions = {},
): Promise<Plan> {
  const meta = await store.meta();
  const applied = (await store.current())?.snapshot ?? null;
  // A rename declared under `moved:` is diffed as the same resource under its new name; apply
  // re-keys its runtime rows (pending deliveries, cursor) in the version's transaction.
  const moved = applied && opts.moved?.length ? applyMoves(applied, opts.moved) : { snapshot: applied, moves: [] };
  const prior = moved.snapshot;
  const hints = opts.hints ?? (await registryHints());
  const warnings = [...(opts.warnings ?? [])];

  let target = desired;
  let selected: Set<string> | undefined;
  if (opts.targeting && (opts.targeting.target.length || opts.targeting.exclude.length)) {
    const t = applyTargeting(prior, desired, opts.targeting);
    target = t.snapshot;
    selected = t.selected;
    warnings.push(...t.warnings);
  }
  const refreshed =
    opts.refresh === false || !hints.provider
      ? []
      : await refreshManaged(prior, target, { providerFor: hints.provider, only: selected && ((a) => selected.has(a)), warn: (m) => warnings.push(m) });

  // Old prompt texts are needed only where a prompt changed; fetch just those.
  const known = new Map<string, string>(Object.entries(blobs));
  const wanted = new Set<string>();
  for (const [addr, r] of Object.entries(prior?.resources ?? {})) {
    const sha = r.prompt_sha256;
    if (sha && !known.has(sha) && target.resources[addr]?.prompt_sha256 !== sha) wanted.add(sha);
  }
  for (const r of Object.values(target.resources)) {
    if (r.prompt_sha256 && !known.has(r.prompt_sha256)) wanted.add(r.prompt_sha256);
  }
  for (const sha of wanted) {
    const text = await store.blob(sha);
    if (text !== null) known.set(sha, text);
  }

  // Removing a route or an actor drains or cancels its pending deliveries: count them.
  const removesRunning =
    moved.moves.length > 0 || Object.entries(prior?.resources ?? {}).some(([a, r]) => !target.resources[a] && (r.kind === 'route' || r.kind === 'actor'));
  const plan = diffSnapshots(prior, target, (sha) => known.get(sha) ?? null, {
    replaceOn: hints.replaceOn,
    lineage: meta.lineage,
    serial: meta.serial,
    origin: opts.origin ?? { type: 'project' },
    warnings,
    targets: opts.targeting,
    refreshed,
    deliveryCounts: removesRunning ? await store.deliveryCounts() : undefined,
    moves: moved.moves.map((m) => ({ from: m.from, to: m.to })),
    applied,
    versions: meta.serial > 0 ? await store.versions() : undefined,
  });
  if (opts.traffic) {
    // after the diff: its topology holds the new loops, and only the routes it changes can differ
    const changedRoutes = new Set(plan.changes.filter((c) => c.kind === 'route').map((c) => c.name));
    attachTraffic(plan, await measureTraffic(store, prior, target, () => plan.topology.new_cycles, { ...opts.traffic, changedRoutes }));
  }
  return plan;
}
