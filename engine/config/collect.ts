// Finds every file of a project and the items they declare. Two shapes:
// - single file: top-level sources/actors/transforms/loggers/routes;
// - `kind: Project` (orgloop/v1alpha1): the project file may declare items inline and lists
//   ConnectorGroup / TransformGroup / LoggerGroup / RouteGroup files; routes/*.yaml beside it
//   are always loaded.

import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import type { Diagnostics } from './diagnostics.js';
import { fileSchema } from './schema.js';
import { checkWorkspaceNames, effectiveDefaults } from './workspace-defaults.js';
import { SourceFile, displayPath, type PathSeg } from './source.js';
import { check } from './validator.js';

export const SECTIONS = ['sources', 'actors', 'transforms', 'loggers', 'routes'] as const;
export type Section = (typeof SECTIONS)[number];

/** One declared item, with where it was written. */
export interface Entry {
  section: Section;
  src: SourceFile;
  /** path of the item inside its file, e.g. ['routes', 3] */
  path: PathSeg[];
  value: unknown;
}

export interface Collected {
  name: string;
  dir: string;
  file: string;
  multiFile: boolean;
  files: SourceFile[];
  entry?: SourceFile;
  /** `defaults:` with the selected workspace's `workspaces.<name>.defaults` over it */
  defaults: Record<string, unknown>;
  /** where a key of `defaults` is written (under defaults: or under the workspace) */
  defaultsPath(key: string): PathSeg[];
  entries: Entry[];
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function readFile(abs: string, diags: Diagnostics, from?: { src: SourceFile; path: PathSeg[] }): SourceFile | undefined {
  let src: SourceFile;
  try {
    src = SourceFile.read(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not a file' : (err as Error).message;
    if (!from) throw new UserError(`${displayPath(abs)}: ${why}${code === 'ENOENT' ? ' (run `orgloop init` to create a project, or pass -c <file>)' : ''}`);
    diags.at(from.src, from.path, `${displayPath(abs)}: ${why}`);
    return undefined;
  }
  for (const e of src.syntaxErrors) diags.atPos(src, e, e.message);
  if (src.syntaxErrors.length) return undefined;
  if (src.data !== null && !isObject(src.data)) {
    diags.atPos(src, { line: 1, col: 1 }, 'expected a mapping with sources, actors, routes, transforms or loggers');
    return undefined;
  }
  if (!from && (src.data === null || Object.keys(src.data as object).length === 0)) {
    diags.atPos(src, { line: 1, col: 1 }, 'the project file is empty: declare sources, actors and routes (`orgloop init` writes a working start)');
    return undefined;
  }
  for (const issue of check(fileSchema, src.data ?? {}, [], (path) => path.length === 1)) diags.at(src, issue.path, issue.message, issue.severity, { key: issue.atKey });
  return src;
}

function addItems(src: SourceFile, section: Section, allowFiles: boolean, out: Entry[], fileRefs: Array<{ path: PathSeg[]; rel: string }>, diags: Diagnostics): void {
  const list = (src.data as Record<string, unknown> | null)?.[section];
  if (!Array.isArray(list)) return;
  list.forEach((value, i) => {
    if (typeof value === 'string' && allowFiles) fileRefs.push({ path: [section, i], rel: value });
    else if (isObject(value)) out.push({ section, src, path: [section, i], value });
    else diags.at(src, [section, i], `${section}[${i}] must be a mapping${allowFiles ? ' or a file path' : ''}`);
  });
}

export function collect(file: string, diags: Diagnostics, workspace?: string): Collected {
  const abs = resolve(file);
  const dir = dirname(abs);
  const entry = readFile(abs, diags);
  const out: Collected = { name: basename(dir), dir, file: abs, multiFile: false, files: [], defaults: {}, defaultsPath: (key) => ['defaults', key], entries: [] };
  if (!entry) return out;
  out.entry = entry;
  out.files.push(entry);
  const top = (entry.data ?? {}) as Record<string, unknown>;
  const kind = top.kind;
  if (typeof kind === 'string' && kind !== 'Project') {
    diags.at(entry, ['kind'], `this is a ${kind} file; pass the project file (kind: Project) with -c`);
    return out;
  }
  const metadata = isObject(top.metadata) ? top.metadata : {};
  const declaredName = metadata.name ?? top.name;
  if (typeof declaredName === 'string' && declaredName) out.name = declaredName;
  checkWorkspaceNames(entry, top, diags);
  const eff = effectiveDefaults(top, workspace);
  out.defaults = eff.values;
  out.defaultsPath = eff.path;
  out.multiFile = kind === 'Project';

  const refs: Array<{ path: PathSeg[]; rel: string }> = [];
  for (const section of SECTIONS) addItems(entry, section, out.multiFile && section !== 'sources' && section !== 'actors', out.entries, refs, diags);
  if (!out.multiFile) return out;

  const connectors = top.connectors;
  if (Array.isArray(connectors)) connectors.forEach((rel, i) => typeof rel === 'string' && refs.push({ path: ['connectors', i], rel }));
  // Listed files first (in order), then routes/*.yaml not already listed.
  const seen = new Set<string>([abs]);
  const load = (target: string, from?: { src: SourceFile; path: PathSeg[] }) => {
    if (seen.has(target)) return;
    seen.add(target);
    const src = readFile(target, diags, from);
    if (!src) return;
    out.files.push(src);
    const k = (src.data as Record<string, unknown> | null)?.kind;
    if (k === 'Project') {
      diags.at(src, ['kind'], 'a Project cannot include another Project file');
      return;
    }
    for (const section of SECTIONS) addItems(src, section, false, out.entries, [], diags);
  };
  refs.sort((a, b) => order(a.path[0]) - order(b.path[0]));
  for (const ref of refs) load(isAbsolute(ref.rel) ? ref.rel : resolve(dir, ref.rel), { src: entry, path: ref.path });
  const routesDir = join(dir, 'routes');
  if (existsSync(routesDir)) {
    const names = readdirSync(routesDir).filter((n) => /\.ya?ml$/.test(n)).sort();
    for (const n of names) load(join(routesDir, n));
  }
  return out;
}

// Files are loaded in section order so declaration order does not depend on YAML key order.
function order(section: PathSeg | undefined): number {
  return ['connectors', 'transforms', 'loggers', 'routes'].indexOf(String(section));
}
