// Desired graph -> the snapshot apply would store. Secrets become { $secret: { template, hash } }
// with a salted hash of the value, so state and plan files can tell "changed" without holding it.

import { createHash } from 'node:crypto';
import type { LoadedProject, ResourceKind, ResourceState, StateSnapshot, StoredSecret } from '../graph/types.js';
import { canonicalJson, sha256Hex, sortKeys } from './canonical.js';
import { resolvePath, getAt, setAt } from './paths.js';

/** Marks a sensitive provider field written as a literal instead of ${VAR}. */
export const INLINE_TEMPLATE = '(inline)';

export type SensitiveLookup = (kind: ResourceKind, provider: string) => readonly string[] | undefined;

export interface DesiredSnapshot {
  snapshot: StateSnapshot;
  /** prompt texts referenced by the snapshot: sha256 -> text */
  blobs: Record<string, string>;
  /** 'sha256:' + hex of the canonical resources */
  digest: string;
  warnings: string[];
}

export function secretHash(salt: string, value: unknown): string {
  const text = typeof value === 'string' ? value : canonicalJson(value);
  return 'sha256:' + sha256Hex(salt + text);
}

export function isStoredSecret(v: unknown): v is StoredSecret {
  return (
    !!v &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    Object.keys(v).length === 1 &&
    typeof (v as StoredSecret).$secret === 'object' &&
    (v as StoredSecret).$secret !== null
  );
}

/**
 * Every `${VAR}` value and every provider-`sensitive` field is replaced by template + salted
 * hash. A sensitive field written inline is never stored either: it becomes template
 * "(inline)" plus its hash, and the plan warns, because only a `${VAR}` can be resolved again
 * when the applied state is run.
 */
export function toSnapshot(project: LoadedProject, salt: string, sensitiveOf?: SensitiveLookup): DesiredSnapshot {
  const resources: Record<string, ResourceState> = {};
  const blobs: Record<string, string> = {};
  const warnings: string[] = [];

  const sorted = [...project.resources].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  for (const r of sorted) {
    // sortKeys copies the spec with keys in canonical order, so snapshots serialize canonically
    // and unchanged resources compare equal as plain JSON text.
    const attributes = sortKeys(r.spec) as Record<string, unknown>;
    for (const [dotted, template] of Object.entries(r.secrets)) {
      const path = resolvePath(attributes, dotted);
      if (!path) continue; // the loader reports a path only for values it substituted
      const value = getAt(attributes, path);
      const secret: StoredSecret = { $secret: { template, hash: secretHash(salt, value) } };
      setAt(attributes, path, secret);
    }
    for (const p of sensitiveOf?.(r.kind, r.provider) ?? []) {
      const path = resolvePath(attributes, `config.${p}`);
      if (!path) continue;
      const value = getAt(attributes, path);
      if (value === undefined || value === null || value === '' || isStoredSecret(value)) continue;
      setAt(attributes, path, { $secret: { template: INLINE_TEMPLATE, hash: secretHash(salt, value) } });
      warnings.push(
        `${r.pos.file}:${r.pos.line}:${r.pos.col}: ${r.address} config.${p} is sensitive but written inline; ` +
          `its value is not stored in state, so write it as \${VAR} (environment or .env) for the executor to use it`,
      );
    }
    const state: ResourceState = {
      kind: r.kind,
      name: r.name,
      provider: r.provider,
      attributes,
      depends_on: [...r.dependsOn].sort(),
    };
    if (r.prompt) {
      state.prompt_sha256 = r.prompt.sha256;
      const text = project.prompts[r.prompt.sha256];
      if (text !== undefined) blobs[r.prompt.sha256] = text;
    }
    resources[r.address] = state;
  }

  const snapshot: StateSnapshot = {
    format_version: 1,
    project: { name: project.name, dir: project.dir },
    resources,
  };
  let digest: string | undefined;
  return {
    snapshot,
    blobs,
    warnings,
    // computed on demand: the planner hashes the (possibly targeted) snapshot itself
    get digest() {
      return (digest ??= snapshotDigest(snapshot));
    },
  };
}

/**
 * Digest of what a snapshot declares (resources only: moving the checkout does not change it).
 * Snapshots are built in canonical key order (toSnapshot), so their JSON text is canonical and
 * native JSON.stringify is enough: this runs on every plan of 10,000+ resources.
 */
export function snapshotDigest(snapshot: StateSnapshot): string {
  const d = new DigestBuilder();
  for (const addr of Object.keys(snapshot.resources).sort()) d.add(addr, declarationJson(snapshot.resources[addr]!));
  return d.digest()!;
}

/**
 * snapshotDigest fed one resource at a time, for a caller that has each declaration's text at
 * hand anyway. Valid only when addresses arrive in sorted order (toSnapshot's order); digest()
 * is null otherwise and the caller computes it from the snapshot.
 */
export class DigestBuilder {
  private readonly h = createHash('sha256');
  private last: string | null = null;
  private sorted = true;

  add(address: string, declaration: string): void {
    if (this.last !== null && !(this.last < address)) this.sorted = false;
    this.last = address;
    if (!this.sorted) return;
    this.h.update(JSON.stringify(address));
    this.h.update(declaration);
    this.h.update('\n');
  }

  digest(): string | null {
    return this.sorted ? 'sha256:' + this.h.digest('hex') : null;
  }
}

/** What a resource declares (provider_state is apply's business), as JSON text: canonical for snapshots built by toSnapshot. */
export function declarationJson(r: ResourceState): string {
  return JSON.stringify([r.kind, r.name, r.provider, r.attributes, r.depends_on, r.prompt_sha256 ?? null]);
}
