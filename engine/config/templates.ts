// Applies ${VAR} substitution to a parsed item, returning a fresh plain-JSON copy (YAML aliases
// become separate values) and remembering which strings were templates (engine/secrets decides which are sensitive).

import { BadReferenceError, MissingVariableError, substitute, type EnvLookup } from './env.js';
import type { PathSeg } from './source.js';

export interface TemplateProblem {
  path: PathSeg[];
  message: string;
  /** the reference names a variable that is not set (the template text is kept as the value) */
  unset?: boolean;
}

export interface Resolved {
  value: unknown;
  /** dotted path (relative to the item) -> template text as written */
  templates: Record<string, string>;
  problems: TemplateProblem[];
}

export function resolveTemplates(value: unknown, lookup: EnvLookup): Resolved {
  const templates: Record<string, string> = {};
  const problems: TemplateProblem[] = [];
  // One shared path stack (copied only when a template is found): this runs on every value
  // of every item, so allocation matters on 10,000-route projects.
  const path: PathSeg[] = [];
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (!v.includes('${')) return v;
      try {
        const out = substitute(v, lookup);
        // An escaped `$${` alone is not a template; a real reference is.
        if (/\$\{[^}]*\}/.test(v.replace(/\$\$\{/g, ''))) templates[path.join('.')] = v;
        return out;
      } catch (err) {
        if (err instanceof MissingVariableError || err instanceof BadReferenceError) {
          problems.push({ path: [...path], message: err.message, ...(err instanceof MissingVariableError ? { unset: true } : {}) });
          return v;
        }
        throw err;
      }
    }
    if (Array.isArray(v)) {
      const out = new Array<unknown>(v.length);
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        out[i] = walk(v[i]);
        path.pop();
      }
      return out;
    }
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) {
        path.push(k);
        out[k] = walk((v as Record<string, unknown>)[k]);
        path.pop();
      }
      return out;
    }
    return v;
  };
  return { value: walk(value), templates, problems };
}
