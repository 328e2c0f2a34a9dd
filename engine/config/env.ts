// ${VAR} / ${VAR:-default} substitution. Values come from the shell first, then (in a named
// workspace other than default, ORGLOOP_WORKSPACE) from `.env.<workspace>`, then from a `.env`
// file beside the project file. The executor uses the same functions to re-resolve secret
// templates at run time, so what plan saw and what runs agree.

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isWorkspaceName } from '../workspaces/select.js';

/** Finds a variable's value: the shell, then the project's .env (projectEnv). */
export type EnvLookup = (name: string) => string | undefined;

/** Raised when a template names a variable that is unset and has no default. */
export class MissingVariableError extends Error {
  constructor(readonly variable: string) {
    super(`environment variable ${variable} is not set (and has no default: use \${${variable}:-default})`);
    this.name = 'MissingVariableError';
  }
}

/** Raised for `${...}` whose inside is not `NAME` or `NAME:-default`. */
export class BadReferenceError extends Error {
  constructor(readonly reference: string) {
    super(`invalid variable reference ${reference}: expected \${NAME} or \${NAME:-default} (write $\${ for a literal \${)`);
    this.name = 'BadReferenceError';
  }
}

// `$${` is an escape for a literal `${` (shell snippets in command actors need it).
const REF = /\$\$\{|\$\{([^}]*)\}/g;
const INNER = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

/** True when `s` contains a `${...}` reference (or an escaped `$${`). */
export function hasTemplate(s: string): boolean {
  return s.includes('${');
}

/** Replaces every reference in `template`; throws MissingVariableError / BadReferenceError. */
export function substitute(template: string, lookup: EnvLookup): string {
  if (!template.includes('${')) return template;
  return template.replace(REF, (whole, inner: string | undefined) => {
    if (inner === undefined) return '${';
    const m = INNER.exec(inner);
    if (!m) throw new BadReferenceError(whole);
    const value = lookup(m[1]!);
    if (value !== undefined && value !== '') return value;
    if (m[2] !== undefined) return m[2];
    if (value !== undefined) return value;
    throw new MissingVariableError(m[1]!);
  });
}

/** Parses dotenv text: KEY=VALUE, optional `export `, '#' comments, single/double quotes. */
export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!;
    const q = value[0];
    if ((q === '"' || q === "'") && value.length >= 2 && value.lastIndexOf(q) > 0) {
      value = value.slice(1, value.lastIndexOf(q));
      if (q === '"') value = value.replace(/\\n/g, '\n').replace(/\\r/g, '\r').replace(/\\t/g, '\t').replace(/\\(["\\])/g, '$1');
    } else {
      const hash = value.search(/\s#/);
      if (hash >= 0) value = value.slice(0, hash);
      value = value.trim();
    }
    out[m[1]!] = value;
  }
  return out;
}

/** Reads `<dir>/.env` (or another file name) if present (missing file = empty). */
export function readDotEnv(dir: string, name = '.env'): Record<string, string> {
  try {
    return parseDotEnv(readFileSync(join(dir, name), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EISDIR') return {};
    throw err;
  }
}

const dotEnvCache = new Map<string, { stamp: string; values: Record<string, string> }>();
/** A file changed this recently may change again within the same timestamp tick: not cached. */
const RACY_MS = 2_000;

/**
 * `readDotEnv`, read again only when the file changed (inode, size, mtime, ctime): the executor
 * re-resolves a polling source's secrets on every poll so a rotated token is picked up, and
 * thousands of polls a minute should cost a stat each, not an open, read and parse.
 */
export function readDotEnvFresh(dir: string, name = '.env'): Record<string, string> {
  const path = join(dir, name);
  const st = statSync(path, { throwIfNoEntry: false, bigint: true });
  if (!st) {
    dotEnvCache.delete(path);
    return {};
  }
  const stamp = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  const hit = dotEnvCache.get(path);
  if (hit?.stamp === stamp) return hit.values;
  const values = readDotEnv(dir, name);
  if (Date.now() - Number(st.mtimeMs) > RACY_MS) dotEnvCache.set(path, { stamp, values });
  else dotEnvCache.delete(path);
  return values;
}

const has = (o: Record<string, string>, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/**
 * Variable lookup for a project directory: the shell environment wins over `.env.<workspace>`
 * (a named workspace's own values, e.g. its port), which wins over `.env`.
 */
export function projectEnv(dir: string, env: NodeJS.ProcessEnv = process.env): EnvLookup {
  let dotenv: Record<string, string> | undefined;
  let wsEnv: Record<string, string> | undefined;
  // names are checked where the workspace is chosen; this guards the file name all the same
  const ws = env.ORGLOOP_WORKSPACE && env.ORGLOOP_WORKSPACE !== 'default' && isWorkspaceName(env.ORGLOOP_WORKSPACE) ? env.ORGLOOP_WORKSPACE : null;
  return (name) => {
    const v = env[name];
    if (v !== undefined) return v;
    if (ws) {
      wsEnv ??= readDotEnvFresh(dir, `.env.${ws}`);
      if (has(wsEnv, name)) return wsEnv[name];
    }
    dotenv ??= readDotEnvFresh(dir);
    return has(dotenv, name) ? dotenv[name] : undefined;
  };
}
