// Executes a plan under the state lock: checks it still fits the state (lineage, serial), calls
// provider lifecycle hooks in dependency order, and writes the resulting snapshot as version
// serial+1 in one transaction. When a hook fails, what already happened in the outside world is
// recorded (Terraform's behaviour): the version written holds every change that succeeded, the
// failed ones stay as they were, and the error is raised after the write.

import { applyMoves } from '../graph/move.js';
import type { Address, ResourceKind, ResourceState, StateSnapshot } from '../graph/types.js';
import type { ProviderBase, ProviderContext, ProviderState } from '../../providers/types.js';
import { StaleSerialError, type StateReader, type StateVersionInfo, type StateWriter, type VersionGit, type VersionKind } from '../../state/store.js';
import { EXIT, UserError } from '../errors.js';
import type { EnvLookup } from '../config/env.js';
import { providerContext } from '../provider-context.js';
import { dependencyOrder } from '../graph/topology.js';
import { summarize } from '../plan/diff.js';
import { snapshotDigest } from '../plan/snapshot.js';
import { resolveSecrets } from '../secrets/index.js';
import type { Plan, PlanSummary, ResourceChange } from '../plan/types.js';

export class PlanMismatchError extends UserError {
  constructor(
    message: string,
    readonly reason: 'stale' | 'foreign',
  ) {
    super(message, EXIT.STALE_PLAN);
    this.name = 'PlanMismatchError';
  }
}

export class ApplyError extends UserError {
  constructor(
    message: string,
    readonly result: ApplyResult,
  ) {
    super(message, EXIT.ERROR);
    this.name = 'ApplyError';
  }
}

export interface ApplyOptions {
  who: string;
  message?: string | null;
  kind?: VersionKind;
  rollback_of?: number | null;
  /** the git commit the project was applied from (read by cmd/), stored with the version */
  git?: VersionGit | null;
  /** provider for a resource (routes have none); hooks are called only where defined */
  providerFor?: (kind: ResourceKind, name: string) => ProviderBase | undefined;
  /** resolves secret templates (${VAR}) for hook contexts; defaults to the shell environment */
  env?: EnvLookup;
  /** fills ${VAR} in a template (engine/config/env substitute) */
  substitute?: (template: string, lookup: EnvLookup) => string;
  /** progress lines ("source.x: Creating...") */
  progress?: (line: string) => void;
  warn?: (line: string) => void;
}

export interface ApplyResult {
  /** the version written, or null when nothing changed */
  version: StateVersionInfo | null;
  summary: PlanSummary;
  applied: Address[];
  failed: Array<{ address: Address; action: string; error: string }>;
  skipped: Address[];
}

/** Refuses a plan computed against another state (foreign) or an older version of it (stale). */
export function checkPlanFits(plan: Pick<Plan, 'lineage' | 'serial'>, meta: { lineage: string; serial: number }): void {
  if (plan.lineage !== meta.lineage) {
    throw new PlanMismatchError(
      `the plan was made for a different state (lineage ${plan.lineage || '(none)'}), but this state has lineage ${meta.lineage}; ` +
        `it cannot be applied here. Run \`orgloop plan\` against this state instead.`,
      'foreign',
    );
  }
  if (plan.serial !== meta.serial) {
    throw new PlanMismatchError(
      `the plan is stale: it was made against state serial ${plan.serial}, but the state is now at serial ${meta.serial} ` +
        `(someone applied since). Run \`orgloop plan\` again and review the new plan.`,
      'stale',
    );
  }
}

/** Refuses a plan whose changes do not fit its own snapshot and the state it was made against (a damaged or hand-edited file). */
function checkPlanIntact(plan: Plan, prior: StateSnapshot | null): void {
  const bad = (why: string) =>
    new PlanMismatchError(`the plan does not hold together (${why}); it may have been edited or damaged. Run \`orgloop plan\` again.`, 'foreign');
  if (plan.config_digest !== snapshotDigest(plan.desired)) throw bad('its snapshot does not match its config digest');
  const before = prior?.resources ?? {};
  const after = plan.desired.resources;
  for (const c of plan.changes) {
    const fits =
      c.action === 'delete' ? !!before[c.address] && !after[c.address]
      : c.action === 'create' ? !!after[c.address]
      : !!before[c.address] && !!after[c.address];
    if (!fits) throw bad(`${c.action} ${c.address} does not fit the state and the snapshot`);
  }
}

export async function applyPlan(store: StateReader & StateWriter, plan: Plan, opts: ApplyOptions): Promise<ApplyResult> {
  const meta = await store.meta();
  checkPlanFits(plan, meta);
  const current = await store.current();
  // `moved:` renames: the plan was diffed against the renamed resources, and their runtime rows
  // (pending deliveries, a source's cursor) are re-keyed in the version's transaction below.
  const moved = current && plan.moves?.length ? applyMoves(current.snapshot, plan.moves) : { snapshot: current?.snapshot ?? null, moves: [] };
  if (plan.moves?.length && moved.moves.length !== plan.moves.length) {
    throw new PlanMismatchError('the plan renames resources the state no longer has under their old names; run `orgloop plan` again', 'stale');
  }
  const prior = moved.snapshot;
  const desired = plan.desired;
  // The plan is applied as recorded (its changes, refresh repairs included); it was made
  // against exactly this version (checkPlanFits), so its changes are what separates the two.
  checkPlanIntact(plan, prior);
  const changes = plan.changes;
  const result: ApplyResult = { version: null, summary: summarize([], 0), applied: [], failed: [], skipped: [] };
  if (!changes.length && !moved.moves.length) return result;

  const byAddr = new Map(changes.map((c) => [c.address, c]));
  const providerState = new Map<Address, ProviderState | undefined>();
  const done = new Set<Address>(); // changes fully applied
  const deletedOld = new Set<Address>(); // replace: old object gone, new one maybe not
  const broken = new Set<Address>(); // failed or skipped
  const priorRes = prior?.resources ?? {};

  const run = async (c: ResourceChange, step: 'create' | 'update' | 'delete', r: ResourceState) => {
    const p = opts.providerFor?.(r.kind, r.provider);
    const hook = p?.[step];
    if (!hook) return { called: false as const };
    opts.progress?.(`${c.address}: ${step === 'create' ? 'Creating' : step === 'update' ? 'Modifying' : 'Destroying'}...`);
    const ctx = contextFor(r, desired, opts);
    const prev = priorRes[c.address]?.provider_state ?? {};
    const started = Date.now();
    const state = step === 'create' ? await p.create!(ctx) : step === 'update' ? await p.update!(ctx, prev) : (await p.delete!(ctx, prev), undefined);
    opts.progress?.(`${c.address}: ${step === 'delete' ? 'Destruction' : step === 'create' ? 'Creation' : 'Modifications'} complete after ${Math.round((Date.now() - started) / 100) / 10}s`);
    return { called: true as const, state };
  };
  const fail = (c: ResourceChange, step: string, err: unknown) => {
    const message = (err as Error)?.message ?? String(err);
    result.failed.push({ address: c.address, action: step, error: message });
    broken.add(c.address);
    opts.warn?.(`${c.address}: ${step} failed: ${message}`);
  };

  // 1. creates, updates and replaces, dependencies first
  for (const addr of dependencyOrder(desired.resources)) {
    const c = byAddr.get(addr);
    if (!c || c.action === 'delete') continue;
    const r = desired.resources[addr];
    if (r.depends_on.some((d) => broken.has(d))) {
      broken.add(addr);
      result.skipped.push(addr);
      continue;
    }
    try {
      if (c.action === 'replace') {
        await run(c, 'delete', priorRes[addr]);
        deletedOld.add(addr);
        const made = await run(c, 'create', r);
        providerState.set(addr, made.called ? made.state : undefined);
      } else if (c.action === 'create') {
        const made = await run(c, 'create', r);
        providerState.set(addr, made.called ? made.state : undefined);
      } else {
        const made = await run(c, 'update', r);
        providerState.set(addr, made.called ? made.state : priorRes[addr]?.provider_state);
      }
      done.add(addr);
    } catch (err) {
      fail(c, c.action, err);
    }
  }

  // 2. deletes, dependents first
  const deletes = new Set(changes.filter((c) => c.action === 'delete').map((c) => c.address));
  for (const addr of dependencyOrder(priorRes).reverse()) {
    if (!deletes.has(addr)) continue;
    const c = byAddr.get(addr)!;
    // Something that still refers to it stays (its own change failed): keep it too.
    const stillUsed = Object.entries(priorRes).some(([a, r]) => broken.has(a) && r.depends_on.includes(addr));
    if (stillUsed) {
      broken.add(addr);
      result.skipped.push(addr);
      continue;
    }
    try {
      await run(c, 'delete', priorRes[addr]);
      done.add(addr);
    } catch (err) {
      fail(c, 'delete', err);
    }
  }

  const snapshot = resultingSnapshot(prior, desired, byAddr, done, deletedOld, providerState);
  const applied = changes.filter((c) => done.has(c.address));
  result.applied = applied.map((c) => c.address);
  result.summary = summarize(applied, 0);

  if (applied.length || moved.moves.length) {
    const blobs: Record<string, string> = {};
    for (const r of Object.values(snapshot.resources)) {
      if (r.prompt_sha256 && plan.blobs[r.prompt_sha256] !== undefined) blobs[r.prompt_sha256] = plan.blobs[r.prompt_sha256];
    }
    const partial = result.failed.length > 0;
    try {
      result.version = await store.writeVersion({
        expectedSerial: meta.serial,
        kind: opts.kind ?? 'apply',
        who: opts.who,
        message: partial ? `${opts.message ? opts.message + ' ' : ''}(partial: ${result.failed.length} failed)` : (opts.message ?? null),
        config_digest: snapshotDigest(snapshot),
        summary: { add: result.summary.add, change: result.summary.change, destroy: result.summary.destroy },
        rollback_of: opts.rollback_of ?? null,
        git: opts.git ?? null,
        snapshot,
        blobs,
        ...(moved.moves.length ? { runtime_renames: moved.moves.flatMap((m) => (m.rename ? [m.rename] : [])) } : {}),
      });
    } catch (err) {
      if (err instanceof StaleSerialError) {
        throw new PlanMismatchError(`the state moved while applying (serial ${err.expected} -> ${err.actual}); nothing was recorded`, 'stale');
      }
      throw err;
    }
  }
  if (result.failed.length) {
    const lines = result.failed.map((f) => `  ${f.address} (${f.action}): ${f.error}`);
    const skipped = result.skipped.length ? `\nSkipped because something they depend on failed: ${result.skipped.join(', ')}` : '';
    const saved = result.version
      ? `The ${applied.length} change(s) that succeeded were recorded as serial ${result.version.serial}; run \`orgloop plan\` to see what remains.`
      : 'Nothing was recorded: no change succeeded.';
    throw new ApplyError(`apply failed for ${result.failed.length} resource(s):\n${lines.join('\n')}${skipped}\n${saved}`, result);
  }
  return result;
}

function resultingSnapshot(
  prior: StateSnapshot | null,
  desired: StateSnapshot,
  byAddr: Map<Address, ResourceChange>,
  done: Set<Address>,
  deletedOld: Set<Address>,
  providerState: Map<Address, ProviderState | undefined>,
): StateSnapshot {
  const priorRes = prior?.resources ?? {};
  const out: Record<Address, ResourceState> = {};
  const keep = (addr: Address, r: ResourceState, ps: ProviderState | undefined) => {
    const copy: ResourceState = { ...r };
    delete copy.provider_state;
    if (ps !== undefined) copy.provider_state = ps;
    out[addr] = copy;
  };
  const addrs = new Set([...Object.keys(priorRes), ...Object.keys(desired.resources)]);
  for (const addr of [...addrs].sort()) {
    const c = byAddr.get(addr);
    const before = priorRes[addr];
    const after = desired.resources[addr];
    if (!c) keep(addr, after, before?.provider_state);
    else if (done.has(addr)) {
      if (c.action !== 'delete') keep(addr, after, providerState.get(addr));
    } else if (before && !deletedOld.has(addr)) keep(addr, before, before.provider_state);
  }
  return { ...desired, resources: out };
}

/** A hook's context: the resource's config with secrets resolved from the environment. */
function contextFor(r: ResourceState, snapshot: StateSnapshot, opts: ApplyOptions): ProviderContext {
  const env: EnvLookup = opts.env ?? ((n) => process.env[n]);
  const substitute = opts.substitute;
  const fill = (template: string) => {
    if (!substitute) throw new Error('no substitution available');
    return substitute(template, env);
  };
  let config: Record<string, unknown>;
  try {
    config = resolveSecrets((r.attributes as { config?: unknown }).config ?? {}, fill, 'config') as Record<string, unknown>;
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  const say = (level: string) => (msg: string) => opts.progress?.(`${r.kind}.${r.name}: ${level}${msg}`);
  return providerContext({
    name: r.name,
    config,
    projectDir: snapshot.project.dir,
    env,
    log: { debug: () => {}, info: say(''), warn: say('warning: '), error: say('error: ') },
  });
}
