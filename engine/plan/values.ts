// Shared value formatting for renderers: secrets never show more than their template.

import { isStoredSecret, INLINE_TEMPLATE } from './snapshot.js';
import { formatPath } from './paths.js';

export function secretLabel(template: string): string {
  return template === INLINE_TEMPLATE ? '(sensitive value)' : `(sensitive value from ${template})`;
}

/** One-line display of a value; secrets (also nested) shown as their label. */
export function showValue(v: unknown): string {
  if (isStoredSecret(v)) return secretLabel(v.$secret.template);
  if (v === undefined) return '(none)';
  return JSON.stringify(v, (_k, x) => (isStoredSecret(x) ? secretLabel(x.$secret.template) : x));
}

/** Leaves of an attribute tree as (path, value); secrets and arrays are leaves. */
export function flatten(value: unknown, path: Array<string | number> = []): Array<{ path: string; value: unknown }> {
  if (isStoredSecret(value) || Array.isArray(value) || !value || typeof value !== 'object') {
    return path.length ? [{ path: formatPath(path), value }] : [];
  }
  const out: Array<{ path: string; value: unknown }> = [];
  const entries = Object.entries(value as Record<string, unknown>);
  if (!entries.length && path.length) return [{ path: formatPath(path), value }];
  for (const [k, v] of entries) out.push(...flatten(v, [...path, k]));
  return out;
}

/** Paths of every secret inside a value (for the JSON sensitive masks). */
export function secretPaths(value: unknown, path: Array<string | number> = []): string[] {
  if (isStoredSecret(value)) return [formatPath(path)];
  if (!value || typeof value !== 'object') return [];
  const out: string[] = [];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...secretPaths(v, [...path, i])));
  else for (const [k, v] of Object.entries(value)) out.push(...secretPaths(v, [...path, k]));
  return out;
}
