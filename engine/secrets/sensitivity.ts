// Which configured values are sensitive (DESIGN §3): a field its provider marks `sensitive` in
// its config schema, or a `${VAR}` value whose variable's name says so (SECRET, TOKEN, ...) or
// that the project lists under `defaults.sensitive`. `defaults.public` lifts the name rule for a
// variable. Any other `${VAR}` value is configuration like any other and is shown in plans.

import type { JSONSchema } from '../../providers/types.js';
import { resolvePath, type Path } from '../graph/paths.js';

/** Words that make a variable's name sensitive (case-insensitive, anywhere in the name). */
export const SENSITIVE_NAME_WORDS = ['SECRET', 'TOKEN', 'PASSWORD', 'KEY', 'CREDENTIAL', 'AUTH', 'PRIVATE', 'COOKIE', 'SESSION'] as const;
const NAME_RULE = new RegExp(SENSITIVE_NAME_WORDS.join('|'), 'i');

export interface SensitivityPolicy {
  /** variables always sensitive (`defaults.sensitive`) */
  sensitive: ReadonlySet<string>;
  /** variables the name rule does not apply to (`defaults.public`) */
  public: ReadonlySet<string>;
}

export const DEFAULT_POLICY: SensitivityPolicy = { sensitive: new Set(), public: new Set() };

function names(v: unknown): Set<string> {
  return new Set(Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
}

/** The project's policy, from its `defaults` block (validated by the file schema). */
export function sensitivityPolicy(defaults: Record<string, unknown> | undefined): SensitivityPolicy {
  if (!defaults || (defaults.sensitive === undefined && defaults.public === undefined)) return DEFAULT_POLICY;
  return { sensitive: names(defaults.sensitive), public: names(defaults.public) };
}

export function isSensitiveVariable(name: string, policy: SensitivityPolicy): boolean {
  if (policy.sensitive.has(name)) return true;
  return !policy.public.has(name) && NAME_RULE.test(name);
}

const REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}/g;

/** Variables a template refers to (`$${` escapes are not references). */
export function templateVariables(template: string): string[] {
  const out: string[] = [];
  for (const m of template.matchAll(REF)) if (m[1]) out.push(m[1]);
  return out;
}

/** A template is sensitive when any variable in it is. */
export function isSensitiveTemplate(template: string, policy: SensitivityPolicy): boolean {
  return templateVariables(template).some((v) => isSensitiveVariable(v, policy));
}

// ---- provider schemas ----

/** One step of a sensitive location in a schema: a property name, any key/index, or a key pattern. */
type Step = { key: string } | { any: true } | { pattern: RegExp };

const locations = new WeakMap<object, Step[][]>();

/**
 * Where a schema marks values `sensitive: true`, as step lists. Follows properties,
 * patternProperties, additionalProperties, items and the branches of oneOf/anyOf/allOf;
 * computed once per schema object.
 */
function sensitiveLocations(schema: JSONSchema): Step[][] {
  const known = locations.get(schema);
  if (known) return known;
  const out: Step[][] = [];
  const walk = (s: unknown, at: Step[], depth: number): void => {
    if (!s || typeof s !== 'object' || depth > 12) return;
    const node = s as Record<string, any>;
    if (node.sensitive === true) {
      out.push(at);
      return;
    }
    for (const [k, sub] of Object.entries((node.properties ?? {}) as Record<string, unknown>)) walk(sub, [...at, { key: k }], depth + 1);
    for (const [p, sub] of Object.entries((node.patternProperties ?? {}) as Record<string, unknown>)) walk(sub, [...at, { pattern: new RegExp(p, 'u') }], depth + 1);
    if (node.additionalProperties && typeof node.additionalProperties === 'object') walk(node.additionalProperties, [...at, { any: true }], depth + 1);
    if (node.items && typeof node.items === 'object' && !Array.isArray(node.items)) walk(node.items, [...at, { any: true }], depth + 1);
    for (const branch of ['oneOf', 'anyOf', 'allOf']) {
      if (Array.isArray(node[branch])) for (const sub of node[branch]) walk(sub, at, depth + 1);
    }
  };
  walk(schema, [], 0);
  locations.set(schema, out);
  return out;
}

function matchAt(value: unknown, steps: Step[], i: number, path: Path, out: Path[]): void {
  if (value === undefined) return;
  if (i === steps.length) {
    out.push(path);
    return;
  }
  if (!value || typeof value !== 'object') return;
  const step = steps[i]!;
  if (Array.isArray(value)) {
    if ('any' in step) value.forEach((v, idx) => matchAt(v, steps, i + 1, [...path, idx], out));
    return;
  }
  const obj = value as Record<string, unknown>;
  if ('key' in step) {
    if (Object.prototype.hasOwnProperty.call(obj, step.key)) matchAt(obj[step.key], steps, i + 1, [...path, step.key], out);
    return;
  }
  for (const k of Object.keys(obj)) {
    if ('any' in step || step.pattern.test(k)) matchAt(obj[k], steps, i + 1, [...path, k], out);
  }
}

/** What the secrets module needs from a provider: its schema markers (and the older path list). */
export interface SensitiveFields {
  configSchema?: JSONSchema;
  /** dotted config paths, for providers written before schema markers */
  sensitive?: readonly string[];
}

/** Paths (inside `config`) of the values a provider marks sensitive in this config. */
export function sensitiveConfigPaths(fields: SensitiveFields | undefined, config: unknown): Path[] {
  if (!fields || !config || typeof config !== 'object') return [];
  const out: Path[] = [];
  if (fields.configSchema) for (const steps of sensitiveLocations(fields.configSchema)) matchAt(config, steps, 0, [], out);
  for (const dotted of fields.sensitive ?? []) {
    const p = resolvePath(config, dotted);
    if (p && !out.some((q) => q.length === p.length && q.every((s, i) => s === p[i]))) out.push(p);
  }
  return out;
}

/** `sensitiveConfigPaths` as dotted paths (`auth.bearer`), for checks keyed by dotted config paths. */
export function sensitiveConfigFields(fields: SensitiveFields | undefined, config: unknown): string[] {
  return sensitiveConfigPaths(fields, config).map((p) => p.join('.'));
}
