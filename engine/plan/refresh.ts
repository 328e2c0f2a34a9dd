// Refresh, as Terraform does before it plans: read back every external object a provider
// manages (its `read` hook: a GitHub repository webhook...) so that a plan with unchanged
// configuration still recreates an object deleted outside orgloop and repairs one edited there.
//
// The results are merged into the change list rather than written into the prior snapshot given
// to the planner. Removing a deleted object from the prior would make it read as "new in
// configuration", make the topology report call its source new, and drop it from state if its
// re-creation failed; an edited object has no declared attribute that differs, so nothing in the
// prior could express it. So the planner core (diffSnapshots) stays pure and runs on the stored
// snapshot as is, and `mergeRefresh` (also pure) adds or adjusts one change per drifted object.
// Apply runs the same merge with the plan's `refreshed` list, so it does exactly what was shown.

import type { Address, ResourceKind, ResourceState, StateSnapshot } from '../graph/types.js';
import type { ObservedState, ProviderBase } from '../../providers/types.js';
import { providerContext, warningsTo } from '../provider-context.js';
import { UserError } from '../errors.js';
import type { EnvLookup } from '../config/env.js';
import type { RefreshedObject, ResourceChange } from './types.js';

export type { RefreshedObject } from './types.js';

export interface ReadOptions {
  /** variable lookup for secrets: shell, then the project's .env (projectEnv) */
  env: EnvLookup;
  projectDir: string;
  warn?: (message: string) => void;
}

/**
 * Reads one managed object through its provider's `read`. The context is built from the applied
 * resource (the config the object was made with), secrets resolved the way the executor does it.
 */
export async function readManaged(r: ResourceState, provider: ProviderBase, opts: ReadOptions): Promise<ObservedState> {
  const [{ resolveSecrets }, { substitute }] = await Promise.all([import('../secrets/index.js'), import('../config/env.js')]);
  const config = resolveSecrets((r.attributes as { config?: unknown }).config ?? {}, (t) => substitute(t, opts.env), 'config') as Record<string, unknown>;
  const ctx = providerContext({ name: r.name, config, projectDir: opts.projectDir, env: opts.env, log: warningsTo((m) => opts.warn?.(m)) });
  return provider.read!(ctx, r.provider_state ?? {});
}

export interface RefreshOptions {
  providerFor: (kind: ResourceKind, name: string) => ProviderBase | undefined;
  /** default: projectEnv of the applied project's directory */
  env?: EnvLookup;
  /** with --target/--exclude: refresh only the selected objects */
  only?: (address: Address) => boolean;
  warn?: (message: string) => void;
  /** reads in flight at once */
  concurrency?: number;
}

/**
 * Reads every object in `prior` that a provider manages and `desired` still declares, and returns
 * those that were deleted or changed outside orgloop. Does nothing (no import, no I/O) when no
 * resource has provider state from a provider that can read it back.
 */
export async function refreshManaged(prior: StateSnapshot | null, desired: StateSnapshot, opts: RefreshOptions): Promise<RefreshedObject[]> {
  const todo: Array<{ address: Address; r: ResourceState; provider: ProviderBase }> = [];
  for (const [address, r] of Object.entries(prior?.resources ?? {})) {
    if (!r.provider_state || r.kind === 'route' || !desired.resources[address]) continue;
    if (opts.only && !opts.only(address)) continue;
    const provider = opts.providerFor(r.kind, r.provider);
    // Only objects apply can put back: a read without create/update could only ever report.
    if (!provider?.read || !provider.create || !provider.update) continue;
    todo.push({ address, r, provider });
  }
  if (!todo.length) return [];

  const projectDir = prior!.project.dir;
  const env = opts.env ?? (await import('../config/env.js')).projectEnv(projectDir);
  const found: RefreshedObject[] = [];
  const readOne = async ({ address, r, provider }: (typeof todo)[number]) => {
    let observed: ObservedState;
    try {
      observed = await readManaged(r, provider, { env, projectDir, warn: (m) => opts.warn?.(`${address}: ${m}`) });
    } catch (err) {
      throw new UserError(
        `cannot refresh ${address}: reading the ${r.provider} object it manages failed: ${(err as Error).message}\n` +
          'Fix the connection or credentials, or plan without refreshing (--refresh=false); the plan then cannot see objects deleted or edited outside orgloop.',
      );
    }
    const differences = observed.differences ?? [];
    if (!observed.exists) found.push({ address, provider: r.provider, status: 'deleted', differences });
    else if (differences.length) found.push({ address, provider: r.provider, status: 'changed', differences });
  };
  const queue = [...todo];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) await readOne(next);
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, todo.length) }, worker));
  return found.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

/** "deleted outside orgloop: webhook 12 on acme/api was deleted on GitHub" / "changed outside orgloop: events: ..." */
export function refreshReason(o: RefreshedObject): string {
  const detail = o.differences.join('; ');
  if (o.status === 'deleted') return `deleted outside orgloop${detail ? `: ${detail}` : ''}`;
  return `changed outside orgloop: ${detail}`;
}

/**
 * The change list with refresh results folded in (pure). A deleted object is created again (an
 * update or replace the configuration asked for becomes that create: there is nothing left to
 * update or destroy); an edited one is updated, which makes the provider write the applied
 * configuration back. Objects no longer declared are left to their delete. The planner
 * (diffSnapshots) calls it and sorts the result.
 */
export function mergeRefresh(
  changes: ResourceChange[],
  refreshed: readonly RefreshedObject[],
  prior: StateSnapshot | null,
  desired: StateSnapshot,
): ResourceChange[] {
  if (!refreshed.length) return changes;
  const out = [...changes];
  for (const o of refreshed) {
    const before = prior?.resources[o.address];
    const after = desired.resources[o.address];
    if (!before || !after) continue;
    const reason = refreshReason(o);
    const i = out.findIndex((c) => c.address === o.address);
    const planned = i >= 0 ? out[i] : undefined;
    if (planned?.action === 'delete') continue;
    const base: ResourceChange = planned ?? {
      address: o.address,
      kind: after.kind,
      name: after.name,
      provider: after.provider,
      action: 'update',
      actions: ['update'],
      reason: '',
      fields: [],
      before,
      after,
    };
    const merged: ResourceChange = { ...base, reason: planned ? `${reason}; also ${planned.reason}` : reason };
    if (o.status === 'deleted') {
      merged.action = 'create';
      merged.actions = ['create'];
    }
    if (i >= 0) out[i] = merged;
    else out.push(merged);
  }
  return out;
}
