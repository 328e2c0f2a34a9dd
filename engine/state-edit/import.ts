// `orgloop import ADDR ID`, Terraform's import: adopt an external object that already exists (a
// GitHub webhook made by hand, or by an apply whose state was lost) as the object a declared
// resource manages, so apply updates it instead of creating a second one. Only the state
// changes: a new version of kind `import` holding the resource with the provider's state for
// that object. What the object and the configuration disagree on is not copied into state: the
// next plan refreshes the object and shows it as a change, and apply repairs it.

import type { Address, LoadedProject, ResourceKind, ResourceState, StateSnapshot } from '../graph/types.js';
import type { StateLocker, StateReader, StateVersionInfo, StateWriter } from '../../state/store.js';
import type { ProviderBase } from '../../providers/types.js';
import { UserError } from '../errors.js';
import { parseAddress } from '../graph/address.js';
import { withLock } from '../apply/lock.js';
import { snapshotDigest, toSnapshot, type SensitiveLookup } from '../plan/snapshot.js';
import { providerContext, warningsTo } from '../provider-context.js';
import type { KeySource } from '../secrets/index.js';
import type { EnvLookup } from '../config/env.js';

type EditStore = StateReader & StateWriter & StateLocker;

export interface ImportOptions {
  address: Address;
  id: string;
  project: LoadedProject;
  providerFor: (kind: ResourceKind, name: string) => ProviderBase | undefined;
  /** every provider there is, to name the importable ones when this one is not */
  allProviders: readonly ProviderBase[];
  sensitive: SensitiveLookup;
  stateKey: KeySource;
  env: EnvLookup;
  who: string;
  warn?: (message: string) => void;
}

export interface ImportResult {
  version: StateVersionInfo;
  provider_state: Record<string, unknown>;
  /** the resource was already in state (applied without an object); only its provider state changed */
  was_applied: boolean;
}

/** "source connector github-webhook (ID: the repository webhook's numeric id ...)" for each importable provider */
export function importableList(all: readonly ProviderBase[]): string {
  const can = all.filter((p) => p.import).map((p) => `${p.kind} connector ${p.name} (ID: ${p.importId ?? 'see its docs'})`);
  return can.length ? can.join('; ') : 'none of the installed connectors';
}

/** Managed means the provider recorded an object (not `{ managed: false }`, what create returns without one). */
function managesObject(r: ResourceState | undefined): boolean {
  const s = r?.provider_state;
  return !!s && Object.keys(s).length > 0 && s.managed !== false;
}

export async function importObject(store: EditStore, o: ImportOptions): Promise<ImportResult> {
  const parsed = parseAddress(o.address);
  if (!parsed) throw new UserError(`"${o.address}" is not a resource address (expected KIND.NAME, e.g. source.github-hooks)`);
  const declared = o.project.resources.find((r) => r.address === o.address);
  if (!declared) {
    const same = o.project.resources.filter((r) => r.kind === parsed.kind).map((r) => r.address);
    throw new UserError(
      `${o.address} is not declared in ${o.project.file}: import adopts an object for a resource the configuration declares; add it there first` +
        (same.length ? ` (declared ${parsed.kind}s: ${same.join(', ')})` : ''),
    );
  }
  const provider = declared.kind === 'route' ? undefined : o.providerFor(declared.kind, declared.provider);
  if (!provider?.import) {
    throw new UserError(
      `${o.address} (${declared.kind === 'route' ? 'a route' : `connector ${declared.provider}`}) manages no external object that can be imported. ` +
        `Importable: ${importableList(o.allProviders)}.`,
    );
  }

  const before = await store.current();
  const applied = before?.snapshot.resources[o.address];
  if (managesObject(applied)) {
    throw new UserError(
      `${o.address} already manages an object (${JSON.stringify(applied!.provider_state)}); to adopt another one instead, ` +
        `forget this one first with \`orgloop state rm ${o.address}\` (its object stays), then import`,
    );
  }

  const ctx = providerContext({
    name: declared.name,
    config: (declared.spec as { config?: Record<string, unknown> }).config ?? {},
    projectDir: o.project.dir,
    env: o.env,
    log: warningsTo((m) => o.warn?.(`${o.address}: ${m}`)),
  });
  let providerState: Record<string, unknown>;
  try {
    providerState = await provider.import(ctx, o.id);
  } catch (err) {
    throw new UserError(`cannot import ${o.address} ${o.id}: ${(err as Error).message}`);
  }

  const meta = await store.meta();
  const desired = toSnapshot(o.project, { salt: meta.secret_salt, key: o.stateKey, sensitive: o.sensitive });
  const version = await withLock(store, { operation: `import ${o.address}`, who: o.who, timeoutMs: 0 }, async () => {
    const current = await store.current();
    if ((current?.serial ?? 0) !== (before?.serial ?? 0)) {
      throw new UserError(`the state changed while importing (version ${before?.serial ?? 0} -> ${current?.serial}); run import again`);
    }
    const snapshot: StateSnapshot = current ? structuredClone(current.snapshot) : { format_version: 1, project: desired.snapshot.project, resources: {} };
    // An applied resource keeps its applied declaration (plan shows what the YAML changes since);
    // a new one enters as declared, so the next plan has nothing to add for it.
    const resource = structuredClone(applied ?? desired.snapshot.resources[o.address]!);
    resource.provider_state = providerState;
    snapshot.resources[o.address] = resource;
    const blobs: Record<string, string> = {};
    for (const r of Object.values(snapshot.resources)) {
      if (!r.prompt_sha256 || blobs[r.prompt_sha256] !== undefined) continue;
      const text = desired.blobs[r.prompt_sha256] ?? (await store.blob(r.prompt_sha256));
      if (text !== null) blobs[r.prompt_sha256] = text;
    }
    return store.writeVersion({
      expectedSerial: current?.serial ?? 0,
      kind: 'import',
      who: o.who,
      message: `import ${o.address} ${o.id}`,
      config_digest: snapshotDigest(snapshot),
      summary: { add: applied ? 0 : 1, change: applied ? 1 : 0, destroy: 0 },
      snapshot,
      blobs,
    });
  });
  return { version, provider_state: providerState, was_applied: !!applied };
}
