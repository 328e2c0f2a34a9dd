// One apply session, as `apply`, `up` and `rollback` run it: take the lock, compute (or check)
// the plan under it, ask for confirmation, apply, release. Interaction is injected (confirm,
// progress) so commands keep the rendering and this module keeps the order of operations.

import type { StateLocker, StateReader, StateWriter } from '../../state/store.js';
import type { StateSnapshot } from '../graph/types.js';
import { hasChanges, type Plan } from '../plan/types.js';
import { applyPlan, checkPlanFits, type ApplyOptions, type ApplyResult } from './apply.js';
import { withLock } from './lock.js';
import { UserError } from '../errors.js';

export interface SessionOptions {
  operation?: string;
  lockTimeoutMs: number;
  /** computes the plan; called while the lock is held, so nobody applies in between */
  makePlan: () => Promise<Plan>;
  /** a saved plan is checked against the state (stale/foreign) before anything else */
  savedPlan?: boolean;
  /** shown the plan; return false to cancel. Not called when the plan has no changes. */
  confirm: (plan: Plan) => Promise<boolean>;
  message?: string | null;
  kind?: ApplyOptions['kind'];
  rollback_of?: number | null;
  git?: ApplyOptions['git'];
  /** who is writing, for the lock and the version (cmd/who.ts) */
  who: string;
  progress?: (line: string) => void;
  warn?: (line: string) => void;
  /**
   * Nobody confirms this apply (--auto-approve, a saved plan): a plan that would cancel pending
   * deliveries (to removed actors) is refused unless `cancelPending` says so explicitly.
   */
  unattended?: boolean;
  cancelPending?: boolean;
}

/** Why an unattended apply may not cancel this plan's pending deliveries, or null. */
export function pendingCancelRefusal(plan: Plan): string | null {
  const f = plan.topology.in_flight;
  if (!f?.cancelled) return null;
  const routes = f.by_route.filter((r) => r.fate === 'cancel').map((r) => `${r.route}: ${r.count}`);
  return (
    `this apply would cancel ${f.cancelled} pending deliver${f.cancelled === 1 ? 'y' : 'ies'} to removed actors (${routes.join(', ')}), and nobody confirmed it. ` +
    'If the actor was renamed, declare the rename in the project file (moved: [{ from: actor.OLD, to: actor.NEW }]) or run `orgloop state mv` first so they go with it; ' +
    'to cancel them, pass --cancel-pending.'
  );
}

export interface SessionResult {
  plan: Plan;
  /** null when there was nothing to do or the user declined */
  result: ApplyResult | null;
  cancelled: boolean;
}

export async function runApplySession(store: StateReader & StateWriter & StateLocker, opts: SessionOptions): Promise<SessionResult> {
  const who = opts.who;
  return withLock(
    store,
    { operation: opts.operation ?? 'apply', who, timeoutMs: opts.lockTimeoutMs, warn: opts.warn },
    async () => {
      const plan = await opts.makePlan();
      if (opts.savedPlan) checkPlanFits(plan, await store.meta());
      if (!hasChanges(plan)) return { plan, result: null, cancelled: false };
      const refusal = opts.unattended && !opts.cancelPending ? pendingCancelRefusal(plan) : null;
      if (refusal) throw new UserError(refusal);
      if (!(await opts.confirm(plan))) return { plan, result: null, cancelled: true };
      const hooks = await hookOptions(plan.desired);
      const result = await applyPlan(store, plan, {
        ...hooks,
        who,
        message: opts.message ?? null,
        kind: opts.kind,
        rollback_of: opts.rollback_of,
        git: opts.git,
        progress: opts.progress,
        warn: opts.warn,
      });
      return { plan, result, cancelled: false };
    },
  );
}

/** Provider hooks from the registry and secret resolution the way config loading does it. */
export async function hookOptions(snapshot: StateSnapshot): Promise<Pick<ApplyOptions, 'providerFor' | 'env' | 'substitute'>> {
  const [{ getProvider }, { projectEnv, substitute }] = await Promise.all([
    import('../../providers/registry.js'),
    import('../config/env.js'),
  ]);
  await (await import('../registry-load.js')).ensureSnapshotProviders(snapshot);
  return {
    providerFor: (kind, name) => (kind === 'route' ? undefined : getProvider(kind, name)),
    env: projectEnv(snapshot.project.dir),
    substitute,
  };
}
