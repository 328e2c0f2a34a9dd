// `orgloop plan -destroy` / `orgloop destroy`: an ordinary plan from the applied version to an
// empty snapshot, so every applied resource is deleted by apply's usual path (provider delete
// hooks in reverse dependency order, pending deliveries to removed actors counted and refused
// unattended). It needs no project files: the applied snapshot says what exists.

import { planAgainstStore, type PlanOptions, type PlanStore } from './plan.js';
import type { Plan } from './types.js';

export const DESTROY_MESSAGE = 'Destroy';

export async function planDestroy(store: PlanStore, opts: Pick<PlanOptions, 'hints'> = {}): Promise<Plan> {
  const current = await store.current();
  const project = current?.snapshot.project ?? { name: '', dir: '' };
  return planAgainstStore(
    store,
    { format_version: 1, project: { ...project }, resources: {} },
    {},
    // refresh reads back only what the plan keeps; nothing is kept, so there is nothing to read
    { origin: { type: 'destroy' }, refresh: false, hints: opts.hints },
  );
}

/** True when a plan (e.g. one saved with `plan -destroy -out`) removes everything applied. */
export function isDestroyPlan(plan: Pick<Plan, 'origin'>): boolean {
  return plan.origin.type === 'destroy';
}
