// The machine-readable plan (docs/plan-json.md). `plan --json` and `show --json` print the
// plan without the snapshot; plan files (`-out`) carry the snapshot and prompt blobs too.

import type { Plan } from './types.js';
import { secretPaths } from '../secrets/index.js';

export function planDocument(plan: Plan, opts: { includeSnapshot?: boolean } = {}): Record<string, unknown> {
  const { desired, blobs, changes, ...rest } = plan;
  const doc: Record<string, unknown> = {
    ...rest,
    changes: changes.map((c) => ({
      ...c,
      before_sensitive: c.before ? secretPaths(c.before.attributes) : [],
      after_sensitive: c.after ? secretPaths(c.after.attributes) : [],
    })),
  };
  if (opts.includeSnapshot) {
    doc.desired = desired;
    doc.blobs = blobs;
  }
  return doc;
}

export function renderJson(plan: Plan, opts: { includeSnapshot?: boolean } = {}): string {
  return JSON.stringify(planDocument(plan, opts), null, 2) + '\n';
}
