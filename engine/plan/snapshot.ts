// Desired graph -> the snapshot apply would store. Sensitive values become
// { $secret: { template, hash } } with a keyed hash (engine/secrets), so state and plan files can
// tell "changed" without holding the value or allowing a guess to be checked.

import { createHash } from 'node:crypto';
import type { LoadedProject, ResourceKind, ResourceState, StateSnapshot } from '../graph/types.js';
import { sortKeys } from '../graph/canonical.js';
import {
  protectAttributes,
  secretHash,
  sensitiveConfigPaths,
  sensitivityPolicy,
  type KeySource,
  type SensitiveFields,
  type StateKey,
} from '../secrets/index.js';

/** A provider's sensitive-field markers (its config schema, or its older `sensitive` list). */
export type SensitiveLookup = (kind: ResourceKind, provider: string) => SensitiveFields | undefined;

export interface DesiredSnapshot {
  snapshot: StateSnapshot;
  /** prompt texts referenced by the snapshot: sha256 -> text */
  blobs: Record<string, string>;
  /** 'sha256:' + hex of the canonical resources */
  digest: string;
  warnings: string[];
}

export interface SnapshotOptions {
  /** the state's salt (state_meta.secret_salt), mixed into every hash */
  salt: string;
  /** the state key; asked for only when a sensitive value needs hashing */
  key: KeySource;
  sensitive?: SensitiveLookup;
}

/**
 * Every sensitive value (engine/secrets decides which) is replaced by template + keyed hash. A
 * sensitive field written inline is never stored either: it becomes template "(inline)" plus its
 * hash, and the plan warns, because only a `${VAR}` can be resolved again when the applied
 * state is run. Other `${VAR}` values are stored as resolved, and plans show them.
 */
export function toSnapshot(project: LoadedProject, opts: SnapshotOptions): DesiredSnapshot {
  const policy = sensitivityPolicy(project.defaults);
  let key: StateKey | undefined;
  const hash = (value: unknown) => secretHash((key ??= opts.key()), opts.salt, value);
  const resources: Record<string, ResourceState> = {};
  const blobs: Record<string, string> = {};
  const warnings: string[] = [];

  const sorted = [...project.resources].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  for (const r of sorted) {
    // sortKeys copies the spec with keys in canonical order, so snapshots serialize canonically
    // and unchanged resources compare equal as plain JSON text.
    const attributes = sortKeys(r.spec) as Record<string, unknown>;
    const fields = r.kind === 'route' ? undefined : opts.sensitive?.(r.kind, r.provider);
    const sensitiveConfig = fields ? sensitiveConfigPaths(fields, attributes.config) : [];
    if (sensitiveConfig.length || hasKeys(r.templates)) {
      const { inline } = protectAttributes({ attributes, templates: r.templates, sensitiveConfig, policy, hash });
      for (const path of inline) {
        warnings.push(
          `${r.pos.file}:${r.pos.line}:${r.pos.col}: ${r.address} ${path} is sensitive but written inline; ` +
            `its value is not stored in state, so write it as \${VAR} (environment or .env) for the executor to use it`,
        );
      }
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

/** What a resource declares (provider_state is apply's business): what plans compare and the digest covers. */
export function declaration(r: ResourceState): unknown[] {
  return [r.kind, r.name, r.provider, r.attributes, r.depends_on, r.prompt_sha256 ?? null];
}

/** `declaration` as JSON text: canonical for snapshots built by toSnapshot. */
export function declarationJson(r: ResourceState): string {
  return JSON.stringify(declaration(r));
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}
