// `orgloop state ...`: inspect and repair the applied state without touching the outside world.
// Every edit takes the state lock and writes a new version (kind `state-edit`, or `import` for
// push), so history shows it and rollback can undo it.

import type { Address, ResourceState, StateSnapshot } from '../graph/types.js';
import type { RuntimeRename, StateLocker, StateReader, StateVersion, StateVersionInfo, StateWriter } from '../../state/store.js';

/** A state edit reads the current version and writes the next under the apply lock. */
type EditStore = StateReader & StateWriter & StateLocker;
import { UserError } from '../errors.js';
import { parseAddress } from '../graph/address.js';
import { canonicalJson } from '../graph/canonical.js';
import { snapshotDigest } from '../plan/snapshot.js';
import { withLock } from '../apply/lock.js';
import { moveInSnapshot } from '../graph/move.js';

export const STATE_FORMAT = 'orgloop-state';
export const STATE_FORMAT_VERSION = 1;

/** `state pull` output: one version, its prompt texts, no secret values (state never holds them). */
export interface StateDocument {
  format: typeof STATE_FORMAT;
  format_version: number;
  lineage: string;
  serial: number;
  /**
   * The lineage's salt for secret hashes. Not a secret value (the state database holds it next
   * to the hashes too); without it a pushed state's hashes could never match again.
   */
  secret_salt: string;
  version: StateVersionInfo;
  snapshot: StateSnapshot;
  /** prompt texts the snapshot references: sha256 -> text */
  blobs: Record<string, string>;
}

async function requireCurrent(store: StateReader): Promise<StateVersion> {
  const current = await store.current();
  if (!current) throw new UserError(`nothing has been applied yet in ${store.location}; the state is empty`);
  return current;
}

export async function listResources(store: StateReader): Promise<Array<{ address: Address; kind: string; provider: string; managed: boolean }>> {
  const current = await requireCurrent(store);
  return Object.entries(current.snapshot.resources)
    .map(([address, r]) => ({ address, kind: r.kind, provider: r.provider, managed: !!r.provider_state && Object.keys(r.provider_state).length > 0 }))
    .sort((a, b) => (a.address < b.address ? -1 : 1));
}

export async function showResource(store: StateReader, address: Address): Promise<{ address: Address; serial: number; resource: ResourceState; prompt: string | null }> {
  const current = await requireCurrent(store);
  const r = current.snapshot.resources[address];
  if (!r) throw new UserError(notFound(address, current.snapshot));
  const prompt = r.prompt_sha256 ? await store.blob(r.prompt_sha256) : null;
  return { address, serial: current.serial, resource: r, prompt };
}

function notFound(address: string, snapshot: StateSnapshot): string {
  if (!parseAddress(address)) return `"${address}" is not a resource address (expected KIND.NAME, e.g. route.pr-review)`;
  const same = Object.keys(snapshot.resources).filter((a) => a.startsWith(address.split('.')[0] + '.'));
  return `${address} is not in the state${same.length ? ` (${address.split('.')[0]}s in state: ${same.slice(0, 8).join(', ')}${same.length > 8 ? ', …' : ''})` : ''}; see \`orgloop state list\``;
}

export async function pullDocument(store: StateReader): Promise<StateDocument> {
  const meta = await store.meta();
  const current = await requireCurrent(store);
  const blobs: Record<string, string> = {};
  for (const r of Object.values(current.snapshot.resources)) {
    if (!r.prompt_sha256 || blobs[r.prompt_sha256] !== undefined) continue;
    const text = await store.blob(r.prompt_sha256);
    if (text !== null) blobs[r.prompt_sha256] = text;
  }
  const { snapshot, ...info } = current;
  return {
    format: STATE_FORMAT,
    format_version: STATE_FORMAT_VERSION,
    lineage: meta.lineage,
    serial: current.serial,
    secret_salt: meta.secret_salt,
    version: info,
    snapshot,
    blobs,
  };
}

export function parseStateDocument(text: string, file: string): StateDocument {
  let doc: Partial<StateDocument>;
  try {
    doc = JSON.parse(text) as Partial<StateDocument>;
  } catch {
    throw new UserError(`${file} is not a state file (not JSON); create one with \`orgloop state pull > ${file}\``);
  }
  if (!doc || typeof doc !== 'object' || doc.format !== STATE_FORMAT) {
    throw new UserError(`${file} is not an orgloop state file (no "format": "${STATE_FORMAT}"); create one with \`orgloop state pull\``);
  }
  if (typeof doc.format_version !== 'number' || doc.format_version > STATE_FORMAT_VERSION) {
    throw new UserError(`${file} has state format ${String(doc.format_version)}, but this orgloop reads format ${STATE_FORMAT_VERSION}; upgrade orgloop`);
  }
  if (typeof doc.lineage !== 'string' || !doc.lineage || typeof doc.secret_salt !== 'string' || !Number.isInteger(doc.serial) || (doc.serial as number) < 1 || !doc.snapshot?.resources) {
    throw new UserError(`${file} is incomplete: it needs lineage, serial, secret_salt and snapshot`);
  }
  for (const [addr, r] of Object.entries(doc.snapshot.resources)) {
    if (r.prompt_sha256 && typeof doc.blobs?.[r.prompt_sha256] !== 'string') {
      throw new UserError(`${file} is incomplete: the prompt text of ${addr} (sha256 ${r.prompt_sha256.slice(0, 12)}) is missing from "blobs"`);
    }
  }
  return { blobs: {}, ...doc } as StateDocument;
}

export interface PushResult {
  version: StateVersionInfo;
  /** the serial in the file; the stored one differs only when --force had to move past local history */
  file_serial: number;
  replaced_lineage: string | null;
}

/**
 * Imports a pulled state. Refused unless it continues this state: same lineage and a higher
 * serial (or the store is empty). `force` overrides both; it never rewrites history, so a
 * forced push below the local serial lands at the next free serial.
 */
export async function pushDocument(store: EditStore, doc: StateDocument, opts: { force: boolean; file: string; who: string }): Promise<PushResult> {
  return withLock(store, { operation: 'state push', who: opts.who, timeoutMs: 0 }, async () => {
    const meta = await store.meta();
    const versions = await store.versions();
    const top = versions.reduce((m, v) => Math.max(m, v.serial), 0);
    const empty = meta.serial === 0 && top === 0;
    let serial = doc.serial;
    let replaced: string | null = null;
    if (!empty) {
      if (doc.lineage !== meta.lineage) {
        if (!opts.force) {
          throw new UserError(
            `refusing to push ${opts.file}: it belongs to another state (lineage ${doc.lineage}), this state has lineage ${meta.lineage}. ` +
              `Use --force to replace it anyway.`,
          );
        }
        replaced = meta.lineage;
      } else if (doc.serial <= meta.serial && !opts.force) {
        const current = await store.current();
        if (doc.serial === meta.serial && current && current.config_digest === snapshotDigest(doc.snapshot)) {
          throw new UserError(`${opts.file} is already the current state (serial ${doc.serial}); nothing to push`);
        }
        throw new UserError(
          `refusing to push ${opts.file}: its serial ${doc.serial} is not newer than this state's serial ${meta.serial} ` +
            `(someone applied since it was pulled). Pull again, or use --force to overwrite.`,
        );
      }
      if (serial <= top) serial = top + 1;
    }
    const version = await store.importVersion(doc.lineage, {
      expectedSerial: meta.serial,
      serial,
      kind: 'import',
      who: opts.who,
      message: `state push ${opts.file} (serial ${doc.serial}${replaced ? `, replacing lineage ${replaced}` : ''})`,
      config_digest: snapshotDigest(doc.snapshot),
      summary: summaryBetween((await store.current())?.snapshot ?? null, doc.snapshot),
      snapshot: doc.snapshot,
      blobs: doc.blobs,
      secret_salt: doc.secret_salt,
    });
    return { version, file_serial: doc.serial, replaced_lineage: replaced };
  });
}

function summaryBetween(before: StateSnapshot | null, after: StateSnapshot): { add: number; change: number; destroy: number } {
  const b = before?.resources ?? {};
  const a = after.resources;
  let add = 0;
  let change = 0;
  let destroy = 0;
  for (const [addr, r] of Object.entries(a)) {
    if (!b[addr]) add++;
    else if (canonicalJson({ ...b[addr], provider_state: undefined }) !== canonicalJson({ ...r, provider_state: undefined })) change++;
  }
  for (const addr of Object.keys(b)) if (!a[addr]) destroy++;
  return { add, change, destroy };
}

async function editCurrent(
  store: EditStore,
  who: string,
  operation: string,
  edit: (snapshot: StateSnapshot) => { message: string; renames?: RuntimeRename[] },
): Promise<StateVersionInfo> {
  return withLock(store, { operation, who, timeoutMs: 0 }, async () => {
    const current = await requireCurrent(store);
    const snapshot = structuredClone(current.snapshot);
    const { message, renames } = edit(snapshot);
    const blobs: Record<string, string> = {};
    for (const r of Object.values(snapshot.resources)) {
      if (!r.prompt_sha256 || blobs[r.prompt_sha256] !== undefined) continue;
      const text = await store.blob(r.prompt_sha256);
      if (text !== null) blobs[r.prompt_sha256] = text;
    }
    return store.writeVersion({
      expectedSerial: current.serial,
      kind: 'state-edit',
      who,
      message,
      config_digest: snapshotDigest(snapshot),
      summary: summaryBetween(current.snapshot, snapshot),
      snapshot,
      blobs,
      ...(renames?.length ? { runtime_renames: renames } : {}),
    });
  });
}

/** Forgets resources; their providers' delete hooks are not called. */
export async function removeResources(store: EditStore, addresses: Address[], who: string): Promise<{ version: StateVersionInfo; dependents: string[] }> {
  let dependents: string[] = [];
  const version = await editCurrent(store, who, `state rm ${addresses.join(' ')}`, (snapshot) => {
    for (const a of addresses) if (!snapshot.resources[a]) throw new UserError(notFound(a, snapshot));
    for (const a of addresses) delete snapshot.resources[a];
    dependents = Object.entries(snapshot.resources)
      .filter(([, r]) => r.depends_on.some((d) => addresses.includes(d)))
      .map(([a, r]) => `${a} still refers to ${r.depends_on.filter((d) => addresses.includes(d)).join(', ')}`);
    return { message: `state rm ${addresses.join(' ')}` };
  });
  return { version, dependents };
}

/**
 * Renames an address, keeping its runtime data (cursor and events of a source, deliveries of a
 * route or actor) and rewriting references to it in the state, so the running graph stays
 * whole. Use it after renaming something in the YAML, before `plan`, to avoid destroy+create
 * (or declare the rename under `moved:`, which plan and apply carry out the same way).
 */
export async function moveResource(store: EditStore, from: Address, to: Address, who: string): Promise<StateVersionInfo> {
  const a = parseAddress(from);
  const b = parseAddress(to);
  if (!a) throw new UserError(`"${from}" is not a resource address (expected KIND.NAME)`);
  if (!b) throw new UserError(`"${to}" is not a resource address (expected KIND.NAME)`);
  if (a.kind !== b.kind) throw new UserError(`cannot move ${from} to ${to}: a ${a.kind} cannot become a ${b.kind}`);
  if (from === to) throw new UserError(`${from} and ${to} are the same address`);
  return editCurrent(store, who, `state mv ${from} ${to}`, (snapshot) => {
    if (!snapshot.resources[from]) throw new UserError(notFound(from, snapshot));
    if (snapshot.resources[to]) throw new UserError(`cannot move ${from} to ${to}: ${to} is already in the state`);
    const rename = moveInSnapshot(snapshot, from, to);
    return { message: `state mv ${from} ${to}`, renames: rename ? [rename] : [] };
  });
}
