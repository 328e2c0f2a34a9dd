// Transform `dedup`: drops an event whose key was already seen within `window`.
// `key` is a dotted path or list of paths (default: type, source and the whole payload, i.e.
// identical events); `window` defaults to 5m. The runtime's TransformStore keeps the seen keys
// durably, so windows survive restarts. Keys are hashed and namespaced by transform name.

import { createHash } from 'node:crypto';
import type { OrgEvent, TransformProvider } from '../types.js';
import { durationIssue, parseDuration } from '../lib/duration.js';
import { getPath, splitPath } from '../lib/path.js';

export const DEFAULT_DEDUP_KEY = ['type', 'source', 'payload'];
export const DEFAULT_DEDUP_WINDOW = '5m';

interface CompiledDedup {
  paths: string[][];
  windowMs: number;
}
const compiledByConfig = new WeakMap<object, CompiledDedup>();

/** The paths an event is deduplicated on, as configured (or the default). */
export function dedupKeyFields(config: Record<string, unknown>): string[] {
  // `fields` is OrgLoop's other name for `key`, `key_fields` its module spec's
  const written = config.key ?? config.fields ?? config.key_fields;
  return written === undefined ? DEFAULT_DEDUP_KEY : Array.isArray(written) ? (written as string[]) : [written as string];
}

function compile(config: Record<string, unknown>): CompiledDedup {
  let c = compiledByConfig.get(config);
  if (!c) {
    c = { paths: dedupKeyFields(config).map(splitPath), windowMs: parseDuration((config.window as string | undefined) ?? DEFAULT_DEDUP_WINDOW) };
    compiledByConfig.set(config, c);
  }
  return c;
}

/** How long a key is remembered (config.window, default 5m). */
export function dedupWindowMs(config: Record<string, unknown>): number {
  return compile(config).windowMs;
}

/** The store key for an event: `<transform>:<sha256 of the key values>`. */
export function dedupKey(name: string, config: Record<string, unknown>, event: OrgEvent): string {
  return `${name}:${createHash('sha256').update(dedupKeyValues(config, event)).digest('base64url')}`;
}

/** The key values an event is deduplicated on, as JSON text (what dedupKey hashes). */
export function dedupKeyValues(config: Record<string, unknown>, event: OrgEvent): string {
  return JSON.stringify(compile(config).paths.map((p) => getPath(event, p) ?? null));
}

export const dedupTransform: TransformProvider = {
  kind: 'transform',
  name: 'dedup',
  description: 'Drops events whose key fields were already seen within a time window.',
  configSchema: {
    type: 'object',
    additionalProperties: true,
    properties: {
      key: {
        oneOf: [
          { type: 'string', minLength: 1 },
          { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
        ],
        description: 'dotted path(s) that identify duplicates (default: type, source, payload)',
      },
      fields: {
        oneOf: [
          { type: 'string', minLength: 1 },
          { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
        ],
        description: 'same as key (OrgLoop spelling)',
      },
      key_fields: {
        oneOf: [
          { type: 'string', minLength: 1 },
          { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
        ],
        description: 'same as key (OrgLoop module spec spelling)',
      },
      track_delivery: { type: 'boolean', description: 'accepted for compatibility; OrgLoop 0.7 reads it but it changes nothing there either' },
      window: { type: 'string', description: 'how long a key is remembered, e.g. 10m (default 5m)' },
      store: { enum: ['memory'], description: 'accepted for compatibility: seen keys are kept in the state store, so windows also survive restarts' },
    },
  },
  validate(config) {
    const w = durationIssue(config, 'window');
    return w ? [w] : [];
  },
  async transform(ctx, event, store) {
    const key = dedupKey(ctx.name, ctx.config, event);
    if (await store.seen(key, compile(ctx.config).windowMs)) {
      return { action: 'drop', reason: `duplicate within ${(ctx.config.window as string | undefined) ?? DEFAULT_DEDUP_WINDOW}` };
    }
    return { action: 'pass', event };
  },
};
