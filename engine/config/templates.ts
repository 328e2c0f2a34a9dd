// Applies ${VAR} substitution to a parsed item, returning a fresh plain-JSON copy (YAML aliases
// become separate values) and remembering which strings were templates: those are secrets.

import { BadReferenceError, MissingVariableError, substitute, type Lookup } from './env.js';
import type { PathSeg } from './source.js';

export interface TemplateProblem {
  path: PathSeg[];
  message: string;
}

export interface Resolved {
  value: unknown;
  /** dotted path (relative to the item) -> template text as written */
  templates: Record<string, string>;
  problems: TemplateProblem[];
}

export function resolveTemplates(value: unknown, lookup: Lookup): Resolved {
  const templates: Record<string, string> = {};
  const problems: TemplateProblem[] = [];
  const walk = (v: unknown, path: PathSeg[]): unknown => {
    if (typeof v === 'string') {
      if (!v.includes('${')) return v;
      try {
        const out = substitute(v, lookup);
        // An escaped `$${` alone is not a secret; a real reference is.
        if (/\$\{[^}]*\}/.test(v.replace(/\$\$\{/g, ''))) templates[path.join('.')] = v;
        return out;
      } catch (err) {
        if (err instanceof MissingVariableError || err instanceof BadReferenceError) {
          problems.push({ path, message: err.message });
          return v;
        }
        throw err;
      }
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, i]));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, [...path, k]);
      return out;
    }
    return v;
  };
  return { value: walk(value, []), templates, problems };
}
