// Loads the package providers a state snapshot names, so engine code working from state (apply
// of a plan file, drift, the executor) finds them in the registry as config loading does.

import { ensureProviders } from '../providers/registry.js';
import type { ProviderKind } from '../providers/types.js';
import type { StateSnapshot } from './graph/types.js';

export async function ensureSnapshotProviders(snapshot: Pick<StateSnapshot, 'project' | 'resources'>): Promise<void> {
  const wants: Array<{ kind: ProviderKind; written: string }> = [];
  for (const r of Object.values(snapshot.resources)) if (r.kind !== 'route') wants.push({ kind: r.kind, written: r.provider });
  // Missing packages surface where the provider is used (the executor names the package).
  await ensureProviders(snapshot.project.dir, wants);
}
