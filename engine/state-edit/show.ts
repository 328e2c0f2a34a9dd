// `orgloop show` without a plan file: the applied state as Terraform's `terraform show` gives
// it, one view for the text and the --json output. Secrets are shown as their label (never the
// stored hash: a hash of a short secret can be guessed offline, and a reader needs only to know
// which variable the value comes from).

import type { Address, ResourceState } from '../graph/types.js';
import type { StateReader, StateVersionInfo } from '../../state/config-plane.js';
import { isStoredSecret, secretLabel } from '../secrets/index.js';

export interface ShownResource {
  address: Address;
  kind: ResourceState['kind'];
  provider: string;
  /** as stored: secrets are StoredSecret (template and hash); stateJson masks them */
  attributes: Record<string, unknown>;
  depends_on: Address[];
  /** what the provider recorded about the external object it manages (a webhook's id), or null */
  provider_state: Record<string, unknown> | null;
  prompt_sha256: string | null;
}

export interface ShownState {
  state: string;
  lineage: string;
  /** 0 when nothing has been applied */
  serial: number;
  version: Pick<StateVersionInfo, 'kind' | 'created_at' | 'who' | 'message' | 'git'> | null;
  project: string | null;
  resources: ShownResource[];
}

/** Deep copy with every stored secret replaced by its label. */
export function maskSecrets<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_k, v) => (isStoredSecret(v) ? secretLabel(v.$secret.template) : v))) as T;
}

export async function currentState(store: StateReader): Promise<ShownState> {
  const meta = await store.meta();
  const current = await store.current();
  if (!current) return { state: store.location, lineage: meta.lineage, serial: 0, version: null, project: null, resources: [] };
  const resources = Object.entries(current.snapshot.resources)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([address, r]) => ({
      address,
      kind: r.kind,
      provider: r.provider,
      attributes: r.attributes,
      depends_on: r.depends_on,
      provider_state: r.provider_state && Object.keys(r.provider_state).length ? r.provider_state : null,
      prompt_sha256: r.prompt_sha256 ?? null,
    }));
  const { kind, created_at, who, message, git } = current;
  return {
    state: store.location,
    lineage: meta.lineage,
    serial: current.serial,
    version: { kind, created_at, who, message, git: git ?? null },
    project: current.snapshot.project.name,
    resources,
  };
}

/** The --json form: every secret as its label, so no hash leaves the store through show. */
export function stateJson(s: ShownState): ShownState {
  return maskSecrets(s);
}
