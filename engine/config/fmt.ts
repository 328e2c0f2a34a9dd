// `orgloop fmt`: one canonical layout for project YAML, keeping every comment.
//
// Canonical means: 2-space indentation, block sequences indented under their key, flow maps
// padded (`{ a: 1 }`) and flow sequences not (`[a, b]`) as in the docs, no line folding, at most
// one blank line between entries, one trailing newline. Keys are never reordered and scalar
// styles (quotes, block scalars) are kept, so a formatted file reads like the one you wrote.
// A file is only rewritten when formatting provably kept its data and its comments.

import { existsSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Document, Lexer, YAMLMap, parseAllDocuments, visit } from 'yaml';
import type { Diagnostic } from '../graph/types.js';
import { ConfigError, UserError } from '../errors.js';

// doubleQuotedAsJSON: a "...\n..." string keeps its escapes instead of breaking over lines
const TO_STRING = { indent: 2, indentSeq: true, lineWidth: 0, minContentWidth: 0, doubleQuotedAsJSON: true } as const;

function parseDocs(text: string, file: string): Document.Parsed[] {
  const docs = parseAllDocuments(text, { keepSourceTokens: false, prettyErrors: true });
  // parseAllDocuments returns an EmptyStream (an array with extra fields) for an empty file
  const list = Array.isArray(docs) ? [...docs] : [docs];
  const diagnostics: Diagnostic[] = [];
  for (const doc of list) {
    for (const e of doc.errors) {
      const pos = e.linePos?.[0];
      diagnostics.push({
        file,
        line: pos?.line ?? 1,
        col: pos?.col ?? 1,
        message: (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''),
        severity: 'error',
      });
    }
  }
  if (diagnostics.length) throw new ConfigError(diagnostics);
  return list;
}

/** Flow maps get inner padding, flow sequences don't: `{ source: x, events: [a, b] }`. */
function setFlowPadding(doc: Document): void {
  visit(doc, {
    Collection(_key, node) {
      if (!node.flow) return;
      const pad = node instanceof YAMLMap ? ' ' : '';
      const original = node.toString;
      node.toString = function (this: typeof node, ctx?: unknown, ...rest: unknown[]) {
        const padded = ctx && typeof ctx === 'object' ? { ...ctx, flowCollectionPadding: pad } : ctx;
        return (original as (...a: unknown[]) => string).call(this, padded, ...rest);
      } as typeof node.toString;
    },
  });
}

/** Comments as the YAML lexer sees them (a `#` inside a string or block scalar is not one). */
function comments(text: string): string[] {
  const out: string[] = [];
  for (const token of new Lexer().lex(text)) if (token.startsWith('#')) out.push(token.trimEnd());
  return out.sort();
}

/** Returns the canonical text of one YAML file. Throws ConfigError on syntax errors. */
export function formatYaml(text: string, file: string): string {
  const docs = parseDocs(text, file);
  if (docs.length === 0) return text.trim() === '' ? '' : text;
  const parts: string[] = [];
  docs.forEach((doc, i) => {
    setFlowPadding(doc);
    // a `---` is needed between documents; keep the first one only if it was written
    if (i > 0) doc.directives.docStart = true;
    let s = doc.toString(TO_STRING);
    if (i > 0 && !s.startsWith('---')) s = `---\n${s}`;
    parts.push(s);
  });
  let formatted = parts.join('');
  if (!formatted.endsWith('\n')) formatted += '\n';

  // Guards: never write a file whose meaning or comments the formatter changed.
  const before = docs.map((d) => d.toJS({ maxAliasCount: -1 }));
  const after = parseDocs(formatted, file).map((d) => d.toJS({ maxAliasCount: -1 }));
  if (!isDeepStrictEqual(before, after)) {
    throw new UserError(`${file}: formatting would change the data in this file; left unchanged (please report this)`);
  }
  const lost = missing(comments(text), comments(formatted));
  if (lost.length) {
    throw new UserError(`${file}: formatting would drop the comment ${JSON.stringify(lost[0])}; left unchanged (please report this)`);
  }
  return formatted;
}

function missing(expected: string[], actual: string[]): string[] {
  const pool = new Map<string, number>();
  for (const c of actual) pool.set(c, (pool.get(c) ?? 0) + 1);
  const out: string[] = [];
  for (const c of expected) {
    const n = pool.get(c) ?? 0;
    if (n === 0) out.push(c);
    else pool.set(c, n - 1);
  }
  return out;
}

const YAML_EXT = /\.ya?ml$/i;

function yamlFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...yamlFilesUnder(p));
    else if (entry.isFile() && YAML_EXT.test(entry.name)) out.push(p);
  }
  return out;
}

function fileRefs(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const out: string[] = [];
  for (const item of value) {
    if (typeof item === 'string') out.push(item);
    else if (item && typeof item === 'object') {
      const o = item as Record<string, unknown>;
      const ref = o.file ?? o.path;
      if (typeof ref === 'string') out.push(ref);
    }
  }
  return out;
}

/**
 * The YAML files of a project: the entry file and, for a `kind: Project` file, the files it
 * lists under connectors/transforms/loggers plus every routes/*.yaml. Found from the YAML
 * alone, so fmt works on projects that do not validate yet.
 */
export function projectYamlFiles(entry: string): { files: string[]; warnings: string[] } {
  const file = resolve(entry);
  if (!existsSync(file)) throw new UserError(`${entry}: file not found`);
  const files = [file];
  const warnings: string[] = [];
  const docs = parseDocs(readFileSync(file, 'utf8'), entry);
  const root = docs[0]?.toJS() as Record<string, unknown> | null | undefined;
  if (root && typeof root === 'object' && root.kind === 'Project') {
    const dir = dirname(file);
    const refs = [...fileRefs(root.connectors), ...fileRefs(root.transforms), ...fileRefs(root.loggers), ...fileRefs(root.routes)];
    for (const ref of refs) {
      const p = resolve(dir, ref);
      if (!YAML_EXT.test(p)) continue;
      if (existsSync(p)) files.push(p);
      else warnings.push(`${relative(process.cwd(), p) || basename(p)}: listed in ${entry} but not found; skipped`);
    }
    const routesDir = join(dir, 'routes');
    // like the loader: routes/*.yaml directly in routes/, not nested folders
    if (existsSync(routesDir) && statSync(routesDir).isDirectory()) {
      for (const n of readdirSync(routesDir).filter((n) => YAML_EXT.test(n)).sort()) files.push(join(routesDir, n));
    }
  }
  return { files: [...new Set(files)], warnings };
}

/** Explicit paths from the command line: files as given, directories searched for *.yaml / *.yml. */
export function expandPaths(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    if (!existsSync(abs)) throw new UserError(`${p}: file not found`);
    if (statSync(abs).isDirectory()) out.push(...yamlFilesUnder(abs));
    else out.push(abs);
  }
  return [...new Set(out)];
}

export interface FmtResult {
  file: string;
  changed: boolean;
  /** with `diff`: the unified diff from the file to its formatted text ('' when unchanged) */
  diff?: string;
  /** set when the file could not be formatted; nothing was written */
  error?: string;
}

/**
 * Formats each file; writes changed ones unless `check`. Errors are per file, nothing is lost.
 * `diff` renders a changed file's diff (the caller brings the differ: config does not depend on plan).
 */
export function fmtFiles(
  files: string[],
  opts: { check: boolean; diff?: (before: string, after: string, name: string) => string; display?: (abs: string) => string },
): FmtResult[] {
  const show = opts.display ?? ((abs: string) => relative(process.cwd(), abs) || abs);
  const results: FmtResult[] = [];
  for (const file of files) {
    const name = show(file);
    try {
      const text = readFileSync(file, 'utf8');
      const formatted = formatYaml(text, name);
      const changed = formatted !== text;
      if (changed && !opts.check) writeAtomic(file, formatted);
      results.push({ file: name, changed, ...(opts.diff ? { diff: changed ? opts.diff(text, formatted, name) : '' } : {}) });
    } catch (err) {
      if (err instanceof ConfigError || err instanceof UserError) results.push({ file: name, changed: false, error: err.message });
      else results.push({ file: name, changed: false, error: `${name}: ${(err as Error).message}` });
    }
  }
  return results;
}

function writeAtomic(file: string, text: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.orgloop-fmt-${process.pid}`);
  writeFileSync(tmp, text, { mode: statSync(file).mode });
  renameSync(tmp, file);
}
