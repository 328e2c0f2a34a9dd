// Transform `enrich`: `copy` moves values between dotted paths (from -> to), then `set` writes
// values ({{path}} templates rendered against the incoming event), then `compute` writes the
// result of a comparison (OrgLoop's `path: "payload.x > 3"`; operators === !== > < >= <=; a
// quoted string or a number on the right). The event is copied, never mutated. Identity fields (id, trace_id, parent_id, hops, source) cannot be written: tracing and
// loop protection depend on them.

import type { OrgEvent, TransformProvider } from '../types.js';
import { getPath, setPath, splitPath } from '../lib/path.js';
import { renderDeep } from '../lib/template.js';

const PROTECTED = new Set(['id', 'trace_id', 'parent_id', 'hops', 'source']);

interface Copy {
  from: string[];
  to: string[];
}
interface Comparison {
  field: string[];
  op: '===' | '!==' | '>' | '<' | '>=' | '<=';
  value: string | number;
}
interface CompiledEnrich {
  set: Array<[string[], unknown]>;
  copy: Copy[];
  compute: Array<[string[], Comparison]>;
}

const COMPARISON = /^([A-Za-z_][\w.]*)\s*(===|!==|>=|<=|>|<)\s*(.+)$/;

/** `payload.priority >= 2` -> a comparison, or null when the expression is not one. */
export function parseComparison(expression: string): Comparison | null {
  const m = COMPARISON.exec(expression.trim());
  if (!m) return null;
  const raw = m[3]!.trim();
  const quoted = /^(['"])(.*)\1$/.exec(raw);
  const value = quoted ? quoted[2]! : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  return { field: splitPath(m[1]!), op: m[2] as Comparison['op'], value };
}

function compare(c: Comparison, event: unknown): boolean {
  const actual = getPath(event, c.field);
  switch (c.op) {
    case '===':
      return actual === c.value || (actual !== undefined && actual !== null && String(actual) === String(c.value));
    case '!==':
      return !(actual === c.value || (actual !== undefined && actual !== null && String(actual) === String(c.value)));
    default: {
      if (typeof actual !== 'number' || typeof c.value !== 'number') return false;
      if (c.op === '>') return actual > c.value;
      if (c.op === '<') return actual < c.value;
      if (c.op === '>=') return actual >= c.value;
      return actual <= c.value;
    }
  }
}
const compiledByConfig = new WeakMap<object, CompiledEnrich>();

function copyList(copy: unknown): Array<{ from: string; to: string }> {
  if (Array.isArray(copy)) return copy as Array<{ from: string; to: string }>;
  if (copy && typeof copy === 'object') return Object.entries(copy as Record<string, string>).map(([from, to]) => ({ from, to }));
  return [];
}

function compile(config: Record<string, unknown>): CompiledEnrich {
  let c = compiledByConfig.get(config);
  if (!c) {
    c = {
      set: Object.entries((config.set as Record<string, unknown> | undefined) ?? {}).map(([p, v]) => [splitPath(p), v]),
      copy: copyList(config.copy).map(({ from, to }) => ({ from: splitPath(from), to: splitPath(to) })),
      compute: Object.entries((config.compute as Record<string, string> | undefined) ?? {}).flatMap(([p, expr]) => {
        const c = typeof expr === 'string' ? parseComparison(expr) : null;
        return c ? [[splitPath(p), c] as [string[], Comparison]] : [];
      }),
    };
    compiledByConfig.set(config, c);
  }
  return c;
}

export function enrichEvent(config: Record<string, unknown>, event: OrgEvent): OrgEvent {
  const c = compile(config);
  const out = structuredClone(event) as OrgEvent;
  for (const { from, to } of c.copy) {
    const v = getPath(event, from);
    if (v !== undefined) setPath(out as unknown as Record<string, unknown>, to, structuredClone(v));
  }
  for (const [path, value] of c.set) setPath(out as unknown as Record<string, unknown>, path, renderDeep(value, event));
  // computed from the event as set and copied so far, as OrgLoop orders them
  const computed = c.compute.map(([path, cmp]) => [path, compare(cmp, out)] as const);
  for (const [path, v] of computed) setPath(out as unknown as Record<string, unknown>, path, v);
  return out;
}

export const enrichTransform: TransformProvider = {
  kind: 'transform',
  name: 'enrich',
  description: 'Sets fields (with {{path}} templates) and copies fields between paths.',
  configSchema: {
    type: 'object',
    additionalProperties: true,
    properties: {
      set: { type: 'object', description: 'dotted path -> value; strings may use {{path}} templates' },
      compute: { type: 'object', additionalProperties: { type: 'string' }, description: 'dotted path -> comparison, e.g. "payload.priority >= 2" (true or false)' },
      copy: {
        oneOf: [
          { type: 'object', additionalProperties: { type: 'string', minLength: 1 }, description: 'from path -> to path' },
          {
            type: 'array',
            items: {
              type: 'object',
              required: ['from', 'to'],
              properties: { from: { type: 'string', minLength: 1 }, to: { type: 'string', minLength: 1 } },
            },
          },
        ],
      },
    },
  },
  validate(config) {
    const issues: Array<{ path: string; message: string }> = [];
    if (config.set === undefined && config.copy === undefined && config.compute === undefined) issues.push({ path: 'set', message: 'enrich needs set or copy' });
    const targets: Array<[string, string]> = [];
    if (config.compute && typeof config.compute === 'object') {
      for (const [p, expr] of Object.entries(config.compute)) {
        targets.push([`compute.${p}`, p]);
        if (typeof expr === 'string' && !parseComparison(expr)) {
          issues.push({ path: `compute.${p}`, message: `${JSON.stringify(expr)} is not a comparison: write "<path> <op> <value>" with op one of ===, !==, >, <, >=, <=` });
        }
      }
    }
    if (config.set && typeof config.set === 'object') for (const p of Object.keys(config.set)) targets.push([`set.${p}`, p]);
    for (const { to } of copyList(config.copy)) if (typeof to === 'string') targets.push([`copy`, to]);
    for (const [where, p] of targets) {
      const head = p.split('.')[0]!;
      if (PROTECTED.has(head)) issues.push({ path: where, message: `${p}: ${head} is managed by orgloop and cannot be changed` });
      if (p.split('.').some((s) => s === '' || s === '__proto__' || s === 'constructor' || s === 'prototype')) {
        issues.push({ path: where, message: `invalid path ${JSON.stringify(p)}` });
      }
    }
    return issues;
  },
  transform(ctx, event) {
    return { action: 'pass', event: enrichEvent(ctx.config, event) };
  },
};
