// `orgloop rollback --to N`: an ordinary plan from the current version to version N's
// snapshot. Prompt texts come from the store's blobs, so what is restored is byte-for-byte what
// version N ran, whatever the files on disk say now. Runtime data is not rewound.

import type { PlanStore } from '../plan/plan.js';
import { UserError } from '../errors.js';
import { planAgainstStore } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';
import { requireVersion, snapshotBlobs } from './diff.js';

export const NOT_REWOUND =
  'Cursors and deliveries are not rewound: events already received stay received, and deliveries keep the version they were routed under.';

export function rollbackMessage(serial: number): string {
  return `Rollback to ${serial}`;
}

/** True when a plan restores a stored version (rollback), and which one. */
export function rollbackTarget(plan: Pick<Plan, 'origin'>): number | null {
  return plan.origin.type === 'version' && typeof plan.origin.serial === 'number' ? plan.origin.serial : null;
}

export async function planRollback(store: PlanStore, to: number, opts: { refresh?: boolean } = {}): Promise<Plan> {
  const current = await store.current();
  if (!current) throw new UserError(`nothing has been applied yet in ${store.location}; there is nothing to roll back`);
  const target = await requireVersion(store, to, '--to');
  if (target.serial === current.serial) throw new UserError(`version ${to} is the current version; nothing to roll back`);

  const desired = structuredClone(target.snapshot);
  // the project lives where it lives now; only the declared resources go back in time
  desired.project = { ...current.snapshot.project };
  const blobs = await snapshotBlobs(store, desired);
  const missing = Object.entries(desired.resources).filter(([, r]) => r.prompt_sha256 && !blobs.has(r.prompt_sha256));
  if (missing.length) {
    throw new UserError(
      `cannot restore version ${to} exactly: the state store has no prompt text for ${missing.map(([a]) => a).join(', ')}`,
    );
  }
  const plan = await planAgainstStore(store, desired, Object.fromEntries(blobs), {
    origin: { type: 'version', serial: target.serial },
    warnings: [NOT_REWOUND],
    refresh: opts.refresh,
  });
  // the diff's reasons speak of the configuration; a rollback's target is version N
  for (const c of plan.changes) {
    if (c.reason === 'new in configuration') c.reason = `restored from version ${to}`;
    else if (c.reason === 'removed from configuration') c.reason = `not in version ${to}`;
  }
  return plan;
}

