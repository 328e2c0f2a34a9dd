// Shared value formatting for renderers: secrets never show more than their template.

import { formatPath } from '../graph/paths.js';
import { isStoredSecret } from '../secrets/index.js';

export { showValue } from '../secrets/index.js';

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
