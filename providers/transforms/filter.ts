// Transform `filter`: passes an event only when every `match` field matches, at least one
// `match_any` field matches (when given), and no `exclude` field matches. Fields are dotted
// paths into the event (payload.x, provenance.author_type, type, source); values are scalars,
// lists (any of), `"a,b"` (OrgLoop's shorthand for a list) or `/regex/flags` strings. Matchers
// are compiled once per config object.
// `jq` mode (OrgLoop's): the event goes through `jq -e <expression>`; a failing or false/null
// result drops it, an object with an `id` replaces it, anything else passes it unchanged.

import type { OrgEvent, ProviderContext, TransformProvider, TransformResult } from '../types.js';
import { compileFieldMatchers, matchesAny, parseRegexLiteral, regexIssues, type FieldMatcher } from '../lib/match.js';
import { getPath } from '../lib/path.js';
import { runProcess } from '../lib/process.js';

const JQ_TIMEOUT_MS = 5000;

/** `"alice,bob"` -> `["alice", "bob"]` (not inside a /regex/). */
function expandLists(spec: unknown): Record<string, unknown> | undefined {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec as Record<string, unknown>)) {
    out[k] = typeof v === 'string' && v.includes(',') && !parseRegexLiteral(v) ? v.split(',').map((x) => x.trim()) : v;
  }
  return out;
}

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
      match: compileFieldMatchers(expandLists(config.match)),
      matchAny: compileFieldMatchers(expandLists(config.match_any)),
      exclude: compileFieldMatchers(expandLists(config.exclude)),
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
    properties: {
      match: matchMap,
      match_any: matchMap,
      exclude: matchMap,
      jq: { type: 'string', minLength: 1, description: 'a jq expression run with jq -e (needs jq on PATH); false, null or an error drops the event' },
    },
  },
  validate(config) {
    const issues: Array<{ path: string; message: string }> = [];
    if (config.match === undefined && config.match_any === undefined && config.exclude === undefined && config.jq === undefined) {
      issues.push({ path: 'match', message: 'filter needs at least one of match, match_any or exclude' });
    }
    for (const k of ['match', 'match_any', 'exclude']) issues.push(...regexIssues(config[k], k));
    return issues;
  },
  transform(ctx, event): TransformResult | Promise<TransformResult> {
    const reason = filterDropReason(ctx.config, event);
    if (reason !== null) return { action: 'drop', reason };
    if (typeof ctx.config.jq === 'string') return jqFilter(ctx, event, ctx.config.jq);
    return { action: 'pass', event };
  },
};

async function jqFilter(ctx: ProviderContext, event: OrgEvent, expression: string): Promise<TransformResult> {
  // argv, never a shell: the expression reaches jq as one argument
  const r = await runProcess({ command: ['jq', '-e', expression], cwd: ctx.projectDir, env: process.env, stdin: JSON.stringify(event), timeoutMs: JQ_TIMEOUT_MS, signal: ctx.signal, captureStdout: true });
  if (r.spawnError) return { action: 'error', error: `jq could not start (${r.spawnError}); install jq to use filter jq mode` };
  if (r.timedOut) return { action: 'drop', reason: `jq: timed out after ${JQ_TIMEOUT_MS}ms` };
  const out = r.stdout.trim();
  if (r.exitCode !== 0 || out === '' || out === 'null' || out === 'false') {
    const err = r.stderrTail.trim().split('\n').slice(-1)[0];
    return { action: 'drop', reason: `jq: ${err ? err.slice(0, 200) : `${JSON.stringify(expression)} is ${out || 'false'}`}` };
  }
  try {
    const v = JSON.parse(out) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as OrgEvent).id === 'string') {
      // a reshaped event: tracing and loop protection fields stay the original's
      const next = { ...(v as OrgEvent), id: event.id, trace_id: event.trace_id, parent_id: event.parent_id, hops: event.hops };
      if (next.payload && typeof next.payload === 'object') return { action: 'pass', event: next };
    }
  } catch {
    /* several values or not JSON: a truthy result */
  }
  return { action: 'pass', event };
}
