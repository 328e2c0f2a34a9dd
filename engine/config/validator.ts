// ajv, compiled once per process: one validator per item schema, one per provider config
// schema (compiled on first use). Errors come back as (path, message, severity) so the loader
// can place them in the YAML file.

import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { JSONSchema } from '../../providers/types.js';
import type { PathSeg } from './source.js';
import { ID_PATTERN, ROUTE_NAME_PATTERN } from './schema.js';
import { closest } from './suggest.js';

// ajv and ajv-formats are CommonJS; under NodeNext their class/plugin is the `default` member.
const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;

export interface SchemaIssue {
  /** path inside the validated value */
  path: PathSeg[];
  message: string;
  severity: 'error' | 'warning';
  /** place the diagnostic on the key rather than the value */
  atKey: boolean;
}

let ajv: InstanceType<typeof Ajv> | undefined;
const compiled = new WeakMap<object, ValidateFunction>();

function instance(): InstanceType<typeof Ajv> {
  if (!ajv) {
    ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true, verbose: true });
    addFormats(ajv);
  }
  return ajv;
}

export function compile(schema: JSONSchema): ValidateFunction {
  const known = compiled.get(schema);
  if (known) return known;
  const fn = instance().compile(schema);
  compiled.set(schema, fn);
  return fn;
}

/** Where an unknown key is an error rather than a warning (default: nowhere). */
export type StrictKeys = (path: PathSeg[]) => boolean;

/** Validates `value`; unknown fields (additionalProperties) are warnings unless `strict` says so, the rest errors. */
export function check(schema: JSONSchema, value: unknown, prefix: PathSeg[] = [], strict: StrictKeys = () => false): SchemaIssue[] {
  const fn = compile(schema);
  if (fn(value)) return [];
  return describe(fn.errors ?? [], prefix, strict);
}

function pointerToPath(pointer: string): PathSeg[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

export function dotted(path: PathSeg[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out;
}

const TYPE_WORD: Record<string, string> = {
  string: 'a string',
  object: 'a mapping',
  array: 'a list',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  null: 'empty',
};

function typeWords(t: unknown): string {
  const list = Array.isArray(t) ? t : [t];
  return list.map((x) => TYPE_WORD[String(x)] ?? String(x)).join(' or ');
}

/**
 * A key the schema does not know. Where a typo changes what the project means (the caller says
 * where: a top-level section, since `route:` for `routes:` would destroy every route on the next
 * apply; a route's when/then/with) it is an error; elsewhere a warning. Both name the closest
 * known key.
 */
function unknownField(extra: PathSeg[], parent: JSONSchema | undefined, strict: boolean): SchemaIssue {
  const key = String(extra.at(-1));
  const known = Object.keys((parent?.properties as Record<string, unknown> | undefined) ?? {});
  const guess = closest(key, known);
  if (strict) {
    const hint = guess ? `did you mean ${guess}?` : `expected one of: ${known.join(', ')}`;
    return { path: extra, message: `unknown field ${dotted(extra)} (${hint})`, severity: 'error', atKey: true };
  }
  return { path: extra, message: `unknown field ${dotted(extra)} (ignored${guess ? `; did you mean ${guess}?` : ''})`, severity: 'warning', atKey: true };
}

interface Branch {
  type?: unknown;
  enum?: unknown[];
  const?: unknown;
  items?: Branch;
}

/** "one of: a, b, c or a list of them" for a oneOf/anyOf of enums and types; undefined when a branch says nothing. */
function branchWords(branches: Branch[]): string | undefined {
  const parts: string[] = [];
  for (const b of branches) {
    if (Array.isArray(b.enum)) parts.push(`one of: ${b.enum.map(String).join(', ')}`);
    else if (b.const !== undefined) parts.push(JSON.stringify(b.const));
    else if (b.type === 'array' && b.items && Array.isArray(b.items.enum)) parts.push(`a list of them`);
    else if (b.type !== undefined) parts.push(typeWords(b.type));
    else return undefined;
  }
  return parts.length ? parts.join(' or ') : undefined;
}

function describe(errors: ErrorObject[], prefix: PathSeg[], strict: StrictKeys): SchemaIssue[] {
  // An anyOf failure also reports every branch's failure; keep only the summary.
  const anyOfAt = new Set(errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath));
  const out: SchemaIssue[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const branch = e.schemaPath.includes('/anyOf/') || e.schemaPath.includes('/oneOf/');
    if (e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && branch && [...anyOfAt].some((p) => e.instancePath.startsWith(p))) continue;
    if (e.keyword === 'if') continue;
    const path = [...prefix, ...pointerToPath(e.instancePath)];
    const field = dotted(path);
    const subject = field ? `${field} ` : '';
    let issue: SchemaIssue;
    switch (e.keyword) {
      case 'required': {
        const missing = [...path, (e.params as { missingProperty: string }).missingProperty];
        issue = { path, message: `${dotted(missing)} is required`, severity: 'error', atKey: false };
        break;
      }
      case 'additionalProperties': {
        const extra = [...path, (e.params as { additionalProperty: string }).additionalProperty];
        issue = unknownField(extra, e.parentSchema as JSONSchema | undefined, strict(extra));
        break;
      }
      case 'type':
        issue = { path, message: `${subject}must be ${typeWords((e.params as { type: unknown }).type)}`, severity: 'error', atKey: false };
        break;
      case 'enum':
        issue = {
          path,
          message: `${subject}must be one of: ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map(String).join(', ')}`,
          severity: 'error',
          atKey: false,
        };
        break;
      case 'const':
        issue = { path, message: `${subject}must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`, severity: 'error', atKey: false };
        break;
      case 'pattern':
        issue = {
          path,
          message:
            (e.params as { pattern: string }).pattern === ID_PATTERN
              ? `${subject}must start with a letter or digit and contain only letters, digits, "-" and "_"`
              : (e.params as { pattern: string }).pattern === ROUTE_NAME_PATTERN
                ? `${subject}must start with a letter or digit, have no control characters or trailing space, and be at most 200 characters`
                : `${subject}must match ${(e.params as { pattern: string }).pattern}`,
          severity: 'error',
          atKey: false,
        };
        break;
      case 'anyOf':
      case 'oneOf': {
        const parent = e.parentSchema as { description?: string; anyOf?: Branch[]; oneOf?: Branch[] } | undefined;
        const branches = parent?.anyOf ?? parent?.oneOf ?? [];
        // A field's description says what it is for, not what it may be: name the allowed values
        // (and the other accepted shapes) so the message says how to fix the value.
        const enumerated = branches.some((b) => Array.isArray(b.enum) || b.const !== undefined);
        const expected = (enumerated ? branchWords(branches) : undefined) ?? parent?.description ?? branchWords(branches);
        issue = { path, message: `${subject}${expected ? `must be ${expected}` : 'has an invalid form'}`, severity: 'error', atKey: false };
        break;
      }
      default:
        issue = { path, message: `${subject}${e.message ?? 'is invalid'}`, severity: 'error', atKey: false };
    }
    const k = `${issue.severity}|${dotted(issue.path)}|${issue.message}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(issue);
    }
  }
  return out;
}
