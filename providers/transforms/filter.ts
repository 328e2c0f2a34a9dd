// Transform `filter`: passes an event only when every `match` field matches, at least one
// `match_any` field matches (when given), and no `exclude` field matches. Fields are dotted
// paths into the event (payload.x, provenance.author_type, type, source); values are scalars,
// lists (any of) or `/regex/flags` strings. Matchers are compiled once per config object.

import type { OrgEvent, TransformProvider, TransformResult } from '../types.js';
import { compileFieldMatchers, matchesAny, regexIssues, type FieldMatcher } from '../lib/match.js';
import { getPath } from '../lib/path.js';

interface CompiledFilter {
  match: FieldMatcher[];
  matchAny: FieldMatcher[];
  exclude: FieldMatcher[];
}

const compiledByConfig = new WeakMap<object, CompiledFilter>();

export function compileFilter(config: Record<string, unknown>): CompiledFilter {
  let c = compiledByConfig.get(config);
  if (!c) {
    c = {
      match: compileFieldMatchers(config.match as Record<string, unknown> | undefined),
      matchAny: compileFieldMatchers(config.match_any as Record<string, unknown> | undefined),
      exclude: compileFieldMatchers(config.exclude as Record<string, unknown> | undefined),
    };
    compiledByConfig.set(config, c);
  }
  return c;
}

/** null when the event passes, otherwise why it was dropped. */
export function filterDropReason(config: Record<string, unknown>, event: OrgEvent): string | null {
  const c = compileFilter(config);
  for (const f of c.match) if (!f.test(getPath(event, f.parts))) return `match: ${f.path} did not match`;
  if (c.matchAny.length > 0 && !matchesAny(event, c.matchAny)) {
    return `match_any: none of ${c.matchAny.map((f) => f.path).join(', ')} matched`;
  }
  for (const f of c.exclude) if (f.test(getPath(event, f.parts))) return `exclude: ${f.path} matched`;
  return null;
}

/** True when the event passes the filter. */
export function filterPasses(config: Record<string, unknown>, event: OrgEvent): boolean {
  return filterDropReason(config, event) === null;
}

const matchMap = { type: 'object', description: 'dotted path -> value, list of values, or "/regex/flags"' };

export const filterTransform: TransformProvider = {
  kind: 'transform',
  name: 'filter',
  description: 'Drops events that do not match (match / match_any) or that match exclude.',
  configSchema: {
    type: 'object',
    additionalProperties: true,
    properties: { match: matchMap, match_any: matchMap, exclude: matchMap },
  },
  validate(config) {
    const issues: Array<{ path: string; message: string }> = [];
    if (config.match === undefined && config.match_any === undefined && config.exclude === undefined) {
      issues.push({ path: 'match', message: 'filter needs at least one of match, match_any or exclude' });
    }
    for (const k of ['match', 'match_any', 'exclude']) issues.push(...regexIssues(config[k], k));
    return issues;
  },
  transform(ctx, event): TransformResult {
    const reason = filterDropReason(ctx.config, event);
    return reason === null ? { action: 'pass', event } : { action: 'drop', reason };
  },
};
