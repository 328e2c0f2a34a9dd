// Dotted paths into events and payloads: `payload.pull_request.number`, `provenance.author_type`.
// Numeric segments index arrays (`payload.labels.0.name`).

const splitCache = new Map<string, string[]>();

/** Splits a dotted path once and caches the parts (paths come from config, a bounded set). */
export function splitPath(path: string): string[] {
  let parts = splitCache.get(path);
  if (!parts) {
    parts = path.split('.');
    if (splitCache.size > 10_000) splitCache.clear();
    splitCache.set(path, parts);
  }
  return parts;
}

/** Value at a dotted path, or undefined when any step is missing. */
export function getPath(obj: unknown, path: string | string[]): unknown {
  const parts = typeof path === 'string' ? splitPath(path) : path;
  let cur: any = obj;
  for (let i = 0; i < parts.length; i++) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[parts[i]!];
  }
  return cur;
}

const UNSAFE = new Set(['__proto__', 'prototype', 'constructor']);

/** Sets a value at a dotted path, creating plain objects on the way. Refuses prototype keys. */
export function setPath(obj: Record<string, unknown>, path: string | string[], value: unknown): void {
  const parts = typeof path === 'string' ? splitPath(path) : path;
  if (parts.length === 0 || parts.some((p) => UNSAFE.has(p) || p === '')) {
    throw new Error(`invalid path ${JSON.stringify(Array.isArray(path) ? path.join('.') : path)}`);
  }
  let cur: any = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i]!;
    const next = cur[k];
    if (next === null || typeof next !== 'object') cur[k] = {};
    cur = cur[k];
  }
  cur[parts[parts.length - 1]!] = value;
}
