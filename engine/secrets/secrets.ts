// The stored form of a secret, `{ $secret: { template, hash } }`, and every walk over it:
// protecting a resource's attributes before they are stored, finding the secrets in stored
// attributes, resolving them again from the environment, and showing them in plans.

import type { StoredSecret } from '../graph/types.js';
import { appendPath, formatPath, getAt, resolvePath, setAt, type Path } from '../graph/paths.js';
import { rememberSecret } from './redact.js';
import { isSensitiveTemplate, type SensitivityPolicy } from './sensitivity.js';

export type { StoredSecret };

/** The template of a sensitive provider field written as a literal instead of ${VAR}. */
export const INLINE_TEMPLATE = '(inline)';

export function isStoredSecret(v: unknown): v is StoredSecret {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const inner = (v as StoredSecret).$secret;
  return !!inner && typeof inner === 'object' && typeof inner.template === 'string' && Object.keys(v).length === 1;
}

// ---- before storing ----

export interface ProtectInput {
  /** a resource's attributes (its normalized spec), changed in place */
  attributes: Record<string, unknown>;
  /** values written with ${VAR}: dotted path inside attributes -> template as written */
  templates: Record<string, string>;
  /** paths inside attributes.config that the provider marks sensitive (sensitiveConfigPaths) */
  sensitiveConfig: Path[];
  policy: SensitivityPolicy;
  /** keyed hash of a value (key.ts secretHash with the state's key and salt) */
  hash: (value: unknown) => string;
}

/**
 * Replaces every sensitive value in `attributes` by `{ $secret: { template, hash } }`. A
 * templated value is sensitive when its variable is (sensitivity.ts) or it lies under a field
 * the provider marks sensitive; such a field written literally becomes template "(inline)".
 * Returns the display paths of those inline values, which the plan warns about: only a ${VAR}
 * can be resolved again when the applied state runs. Other templated values stay as resolved.
 */
export function protectAttributes(input: ProtectInput): { inline: string[] } {
  const { attributes, policy, hash } = input;
  const marked = input.sensitiveConfig.map((p) => ['config', ...p]);
  const underMarked = (path: Path) => marked.some((m) => m.length <= path.length && m.every((s, i) => s === path[i]));

  for (const [dotted, template] of Object.entries(input.templates)) {
    const path = resolvePath(attributes, dotted);
    if (!path) continue; // the loader reports a path only for values it substituted
    if (!isSensitiveTemplate(template, policy) && !underMarked(path)) continue;
    setAt(attributes, path, { $secret: { template, hash: hash(getAt(attributes, path)) } } satisfies StoredSecret);
  }

  const inline: string[] = [];
  for (const root of marked) {
    for (const path of leaves(getAt(attributes, root), root)) {
      const value = getAt(attributes, path);
      if (value === undefined || value === null || value === '' || isStoredSecret(value)) continue;
      setAt(attributes, path, { $secret: { template: INLINE_TEMPLATE, hash: hash(value) } } satisfies StoredSecret);
      inline.push(formatPath(path));
    }
  }
  return { inline };
}

function leaves(value: unknown, at: Path): Path[] {
  if (!value || typeof value !== 'object' || isStoredSecret(value)) return [at];
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, [...at, i]));
  const keys = Object.keys(value);
  return keys.length ? keys.flatMap((k) => leaves((value as Record<string, unknown>)[k], [...at, k])) : [at];
}

// ---- in stored attributes ----

/** Every stored secret inside a value, with its path. */
export function secretsIn(value: unknown, at: Path = []): Array<{ path: Path; secret: StoredSecret }> {
  if (isStoredSecret(value)) return [{ path: at, secret: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => secretsIn(v, [...at, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => secretsIn(v, [...at, k]));
  return [];
}

export function containsSecret(value: unknown): boolean {
  if (!value || typeof value !== 'object') return false;
  if (isStoredSecret(value)) return true;
  return Object.values(value as object).some(containsSecret);
}

/** Display paths of every secret inside a value (the JSON plan's sensitive masks). */
export function secretPaths(value: unknown): string[] {
  return secretsIn(value).map((s) => formatPath(s.path));
}

/** Raised when a stored secret cannot be resolved; the message names its path and template, never a value. */
export class SecretResolutionError extends Error {}

/**
 * A copy of `value` with stored secrets replaced by their values, resolved now from the
 * environment (`resolve` fills a template). Each resolved value is remembered for `redact`.
 * `shown` is the display path of `value` itself, for messages (e.g. "config").
 */
export function resolveSecrets(value: unknown, resolve: (template: string) => string, shown = ''): unknown {
  if (isStoredSecret(value)) {
    const { template } = value.$secret;
    if (template === INLINE_TEMPLATE) {
      throw new SecretResolutionError(
        `${shown} is sensitive and was written inline, so its value is not in state; write it as \${VAR} (environment or .env) and apply again`,
      );
    }
    let resolved: string;
    try {
      resolved = resolve(template);
    } catch (err) {
      throw new SecretResolutionError(`${shown}: cannot resolve ${template}: ${(err as Error).message}`);
    }
    rememberSecret(resolved);
    return resolved;
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveSecrets(v, resolve, appendPath(shown, i)));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolveSecrets(v, resolve, appendPath(shown, k));
    return out;
  }
  return value;
}

// ---- display ----

export function secretLabel(template: string): string {
  return template === INLINE_TEMPLATE ? '(sensitive value)' : `(sensitive value from ${template})`;
}

/** One-line display of a value; secrets (also nested) shown as their label. */
export function showValue(v: unknown): string {
  if (isStoredSecret(v)) return secretLabel(v.$secret.template);
  if (v === undefined) return '(none)';
  return JSON.stringify(v, (_k, x) => (isStoredSecret(x) ? secretLabel(x.$secret.template) : x));
}
