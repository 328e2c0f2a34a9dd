// `orgloop diff --from N --to M`: the plan-style difference between two stored versions,
// computed by the planner itself so it reads exactly like a plan.

import type { StateSnapshot } from '../graph/types.js';
import type { StateReader, StateVersion } from '../../state/config-plane.js';
import { UserError } from '../errors.js';
import { diffSnapshots } from '../plan/diff.js';
import { registryHints } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';

export async function requireVersion(store: StateReader, serial: number, flag: string): Promise<StateVersion> {
  if (!Number.isInteger(serial) || serial < 1) throw new UserError(`${flag} must be a version number (1 or higher), got ${serial}`);
  const v = await store.version(serial);
  if (v) return v;
  const meta = await store.meta();
  throw new UserError(
    meta.serial === 0
      ? `${flag} ${serial}: nothing has been applied yet in ${store.location}`
      : `${flag} ${serial}: no such version (versions are 1..${meta.serial}; see \`orgloop history\`)`,
  );
}

/** Every prompt text two snapshots reference, read from the store's blobs. */
export async function snapshotBlobs(store: StateReader, ...snapshots: Array<StateSnapshot | null>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const s of snapshots) {
    for (const r of Object.values(s?.resources ?? {})) {
      const sha = r.prompt_sha256;
      if (!sha || out.has(sha)) continue;
      const text = await store.blob(sha);
      if (text !== null) out.set(sha, text);
    }
  }
  return out;
}

export async function diffVersions(store: StateReader, from: number, to?: number): Promise<{ plan: Plan; from: StateVersion; to: StateVersion }> {
  const meta = await store.meta();
  if (meta.serial === 0) throw new UserError(`nothing has been applied yet in ${store.location}`);
  const a = await requireVersion(store, from, '--from');
  const b = await requireVersion(store, to ?? meta.serial, '--to');
  const blobs = await snapshotBlobs(store, a.snapshot, b.snapshot);
  const hints = await registryHints();
  const plan = diffSnapshots(a.snapshot, b.snapshot, (sha) => blobs.get(sha) ?? null, {
    replaceOn: hints.replaceOn,
    lineage: meta.lineage,
    serial: a.serial,
    origin: { type: 'version', serial: b.serial },
  });
  return { plan, from: a, to: b };
}
