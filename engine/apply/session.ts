// One apply session, as `apply`, `up` and `rollback` run it: take the lock, compute (or check)
// the plan under it, ask for confirmation, apply, release. Interaction is injected (confirm,
// progress) so commands keep the rendering and this module keeps the order of operations.

import type { Store } from '../../state/store.js';
import type { StateSnapshot } from '../graph/types.js';
import { hasChanges, type Plan } from '../plan/types.js';
import { applyPlan, checkPlanFits, type ApplyOptions, type ApplyResult } from './apply.js';
import { withLock, whoAmI } from './lock.js';

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
  who?: string;
  progress?: (line: string) => void;
  warn?: (line: string) => void;
}

export interface SessionResult {
  plan: Plan;
  /** null when there was nothing to do or the user declined */
  result: ApplyResult | null;
  cancelled: boolean;
}

export async function runApplySession(store: Store, opts: SessionOptions): Promise<SessionResult> {
  const who = opts.who ?? whoAmI();
  return withLock(
    store,
    { operation: opts.operation ?? 'apply', who, timeoutMs: opts.lockTimeoutMs, warn: opts.warn },
    async () => {
      const plan = await opts.makePlan();
      if (opts.savedPlan) checkPlanFits(plan, await store.meta());
      if (!hasChanges(plan)) return { plan, result: null, cancelled: false };
      if (!(await opts.confirm(plan))) return { plan, result: null, cancelled: true };
      const hooks = await hookOptions(plan.desired);
      const result = await applyPlan(store, plan, {
        ...hooks,
        who,
        message: opts.message ?? null,
        kind: opts.kind,
        rollback_of: opts.rollback_of,
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
