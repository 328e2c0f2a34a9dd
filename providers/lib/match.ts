// Value matching for filters: a config value is a scalar (equality), a list (any of), or a
// `/regex/flags` string. Matchers are compiled once per config object and reused per event.

import { getPath, splitPath } from './path.js';
import { PLATFORM_EVENT_PATH, sameEventNames } from './event-aliases.js';

export type ValueMatcher = (actual: unknown) => boolean;

const REGEX_LITERAL = /^\/(.+)\/([dgimsuyv]*)$/s;

/** Parses `/pattern/flags` into a RegExp, or null when `s` is not written that way. Throws on a bad pattern. */
export function parseRegexLiteral(s: string): RegExp | null {
  const m = REGEX_LITERAL.exec(s);
  if (!m) return null;
  // g/y make test() stateful; matching must not depend on previous calls.
  const flags = m[2]!.replace(/[gy]/g, '');
  return new RegExp(m[1]!, flags);
}

function scalarEquals(expected: unknown, actual: unknown): boolean {
  if (expected === actual) return true;
  if (expected === null) return actual === null || actual === undefined;
  // YAML gives `42` where a payload may carry "42" (and vice versa); compare as text for scalars.
  const te = typeof expected;
  const ta = typeof actual;
  if ((te === 'number' || te === 'boolean' || te === 'string') && (ta === 'number' || ta === 'boolean' || ta === 'string')) {
    return String(expected) === String(actual);
  }
  return false;
}

/** Compiles one expected value into a matcher. */
export function compileValueMatcher(expected: unknown): ValueMatcher {
  if (Array.isArray(expected)) {
    const subs = expected.map(compileValueMatcher);
    return (actual) => {
      for (const m of subs) if (m(actual)) return true;
      return false;
    };
  }
  if (typeof expected === 'string') {
    const re = parseRegexLiteral(expected);
    if (re) {
      return (actual) => {
        if (actual === undefined || actual === null || typeof actual === 'object') {
          // A regex against a list of strings (labels...) matches when any element matches.
          if (Array.isArray(actual)) return actual.some((a) => (typeof a === 'object' ? false : re.test(String(a))));
          return false;
        }
        return re.test(String(actual));
      };
    }
  }
  if (expected !== null && typeof expected === 'object') {
    const json = JSON.stringify(expected);
    return (actual) => actual !== null && typeof actual === 'object' && JSON.stringify(actual) === json;
  }
  return (actual) => {
    if (Array.isArray(actual)) return actual.some((a) => scalarEquals(expected, a));
    return scalarEquals(expected, actual);
  };
}

export interface FieldMatcher {
  path: string;
  parts: string[];
  test: ValueMatcher;
}

/** An event name as expected by a match: the name or any alias of it (event-aliases.ts). */
function withAliases(expected: unknown): unknown {
  if (typeof expected === 'string') {
    if (parseRegexLiteral(expected)) return expected;
    const names = sameEventNames(expected);
    return names.length > 1 ? [...names] : expected;
  }
  if (Array.isArray(expected)) return expected.flatMap((e) => withAliases(e));
  return expected;
}

/** Compiles a `{ dotted.path: expected }` map into field matchers. */
export function compileFieldMatchers(spec: Record<string, unknown> | undefined | null): FieldMatcher[] {
  if (!spec) return [];
  return Object.entries(spec).map(([path, expected]) => ({
    path,
    parts: splitPath(path),
    test: compileValueMatcher(path === PLATFORM_EVENT_PATH ? withAliases(expected) : expected),
  }));
}

export function matchesAll(obj: unknown, fields: FieldMatcher[]): boolean {
  for (const f of fields) if (!f.test(getPath(obj, f.parts))) return false;
  return true;
}

export function matchesAny(obj: unknown, fields: FieldMatcher[]): boolean {
  for (const f of fields) if (f.test(getPath(obj, f.parts))) return true;
  return false;
}

/** Validation helper: reports `/regex/` values in a match map that do not compile. */
export function regexIssues(spec: unknown, base: string): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return issues;
  for (const [path, expected] of Object.entries(spec)) {
    const values = Array.isArray(expected) ? expected : [expected];
    for (const v of values) {
      if (typeof v !== 'string') continue;
      try {
        parseRegexLiteral(v);
      } catch (err) {
        issues.push({ path: `${base}.${path}`, message: `invalid regular expression ${v}: ${(err as Error).message}` });
      }
    }
  }
  return issues;
}
