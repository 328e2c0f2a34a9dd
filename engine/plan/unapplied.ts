// Whether the project on disk differs from the applied version: what `start` warns about, since
// it runs what was applied, not the YAML (a user who edits and restarts expects the edit to run).

import { loadProject } from '../config/load.js';
import { ConfigError } from '../errors.js';
import type { KeySource } from '../secrets/index.js';
import type { PlanStore } from './plan.js';
import { planFromProject } from './plan.js';
import type { PlanSummary } from './types.js';

export type Unapplied =
  | { kind: 'changes'; serial: number; summary: PlanSummary }
  /** the file does not load: the executor runs the applied version regardless */
  | { kind: 'invalid'; serial: number; errors: number };

/** Null when the project plans to no changes against the applied version (or nothing is applied). */
export async function unappliedChanges(store: PlanStore, configFile: string, stateKey: KeySource): Promise<Unapplied | null> {
  const serial = (await store.meta()).serial;
  if (serial === 0) return null;
  let project;
  try {
    project = await loadProject(configFile);
  } catch (err) {
    if (err instanceof ConfigError) return { kind: 'invalid', serial, errors: err.diagnostics.filter((d) => d.severity !== 'warning').length };
    throw err;
  }
  // no refresh: a provider's API is not worth waiting on before the executor starts
  const plan = await planFromProject(store, project, { refresh: false, stateKey });
  return plan.changes.length ? { kind: 'changes', serial, summary: plan.summary } : null;
}
