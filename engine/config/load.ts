// loadProject: YAML on disk -> the desired graph (validated, normalized, prompts read).
// Every problem is collected and thrown at once as a ConfigError with file:line:col.

import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Diagnostic, LoadedProject } from '../graph/types.js';
import { collect } from './collect.js';
import { Diagnostics } from './diagnostics.js';
import { projectEnv } from './env.js';
import { checkReferences, type Built } from './references.js';
import { buildResource, type BuildContext } from './resources.js';
import { resolveTemplates } from './templates.js';
import { dotted } from './validator.js';
import { parseDuration } from '../../providers/lib/duration.js';
import { ensureProviders } from '../../providers/registry.js';
import type { ProviderKind } from '../../providers/types.js';
import type { Entry } from './collect.js';
import type { PathSeg } from './source.js';

/** Real paths of the project directory and of each `defaults.prompt_roots` entry (relative to the project). */
function promptRoots(project: ReturnType<typeof collect>, defaults: Record<string, unknown>, diags: Diagnostics): string[] {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return null;
    }
  };
  const roots = [real(project.dir) ?? project.dir];
  const listed = Array.isArray(defaults.prompt_roots) ? defaults.prompt_roots : [];
  listed.forEach((r, i) => {
    if (typeof r !== 'string' || !r) return; // the schema reports it
    const root = real(resolve(project.dir, r));
    if (root) roots.push(root);
    else if (project.entry) diags.at(project.entry, [...project.defaultsPath('prompt_roots'), i], `defaults.prompt_roots: ${r} does not exist`);
  });
  return roots;
}

export async function loadProject(file: string, opts: { env?: NodeJS.ProcessEnv; unsetVars?: 'error' | 'warn' } = {}): Promise<LoadedProject> {
  const diags = new Diagnostics();
  const env = opts.env ?? process.env;
  const project = collect(file, diags, env.ORGLOOP_WORKSPACE);
  const lookup = projectEnv(project.dir, env);
  const at = (path: PathSeg[]) => [...project.defaultsPath(String(path[0])), ...path.slice(1)];

  let defaults: Record<string, unknown> = {};
  if (project.entry && Object.keys(project.defaults).length > 0) {
    const r = resolveTemplates(project.defaults, lookup);
    for (const p of r.problems) diags.at(project.entry, at(p.path), `defaults.${dotted(p.path)}: ${p.message}`);
    defaults = r.value as Record<string, unknown>;
    if (Array.isArray(defaults.retry)) {
      defaults.retry.forEach((d, i) => {
        try {
          if (parseDuration(d as string) <= 0) diags.at(project.entry!, at(['retry', i]), `defaults.retry[${i}] must be greater than zero`);
        } catch (err) {
          diags.at(project.entry!, at(['retry', i]), `defaults.retry[${i}]: ${(err as Error).message}`);
        }
      });
    }
    // OrgLoop 0.7 kept source checkpoints in files (or in memory, lost on restart); orgloop keeps
    // them with the project's state, transactionally with the events they produced.
    const cp = defaults.checkpoint as { store?: unknown; dir?: unknown } | undefined;
    if (cp && typeof cp === 'object') {
      if (cp.store === 'memory') diags.at(project.entry, ['defaults', 'checkpoint', 'store'], 'defaults.checkpoint.store: memory is not honoured: source checkpoints are kept in the state store and survive restarts', 'warning');
      if (cp.dir !== undefined) diags.at(project.entry, ['defaults', 'checkpoint', 'dir'], 'defaults.checkpoint.dir is not used: source checkpoints are kept in the state store (.orgloop/state.db, or --state)', 'warning');
    }
    for (const key of ['poll_interval', 'event_retention']) {
      const v = defaults[key];
      if (typeof v !== 'string') continue;
      try {
        parseDuration(v);
      } catch (err) {
        diags.at(project.entry, at([key]), `defaults.${key}: ${(err as Error).message}`);
      }
    }
  }

  // Providers from packages load asynchronously, before any resource is checked against them.
  const packages = await ensureProviders(project.dir, providerNamesOf(project.entries));
  const ctx: BuildContext = { lookup, diags, dir: project.dir, defaults, prompts: {}, promptCache: new Map(), packages, promptRoots: promptRoots(project, defaults, diags), unsetVars: opts.unsetVars ?? 'error' };
  const built: Built[] = project.entries.map((entry) => ({ entry, resource: buildResource(entry, ctx) }));
  checkReferences(built, diags);
  const moved = checkMoved(project, built, diags);

  const byPlace = (a: Diagnostic, b: Diagnostic) => (a.file === b.file ? a.line - b.line || a.col - b.col : a.file < b.file ? -1 : 1);
  diags.warnings.sort(byPlace);
  if (diags.failed) throw new ConfigError([...diags.errors.sort(byPlace), ...diags.warnings]);
  const resources = built.map((b) => b.resource!);
  const prompts: Record<string, string> = {};
  for (const r of resources) if (r.prompt) prompts[r.prompt.sha256] = ctx.prompts[r.prompt.sha256]!;
  return {
    name: project.name,
    dir: project.dir,
    file: project.file,
    files: project.files.map((f) => f.path),
    defaults,
    resources,
    prompts,
    warnings: diags.warnings,
    ...(moved.length ? { moved } : {}),
  };
}

/**
 * `moved:` in the project file: each `to` must be declared and each `from` must not be (it is
 * the old name), with the same kind on both sides. Plans then carry the old name's runtime rows
 * over instead of destroying one resource and creating another.
 */
function checkMoved(project: ReturnType<typeof collect>, built: Built[], diags: Diagnostics): Array<{ from: string; to: string }> {
  const list = project.entry ? (project.entry.data as Record<string, unknown> | null)?.moved : undefined;
  if (!Array.isArray(list) || !project.entry) return [];
  const declared = new Set(built.map((b) => b.resource?.address).filter(Boolean));
  const out: Array<{ from: string; to: string }> = [];
  const seen = new Set<string>();
  list.forEach((m, i) => {
    const { from, to } = (m ?? {}) as { from?: unknown; to?: unknown };
    if (typeof from !== 'string' || typeof to !== 'string') return; // the schema reports it
    const at = (key: string, message: string) => diags.at(project.entry!, ['moved', i, key], message);
    if (from.split('.')[0] !== to.split('.')[0]) return at('to', `moved[${i}]: ${from} cannot become ${to} (a different kind)`);
    if (!declared.has(to)) return at('to', `moved[${i}]: ${to} is not declared in the project`);
    if (declared.has(from)) return at('from', `moved[${i}]: ${from} is still declared; moved names the old address`);
    if (seen.has(from)) return at('from', `moved[${i}]: ${from} is moved twice`);
    seen.add(from);
    out.push({ from, to });
  });
  return out;
}

const SECTION_KIND: Partial<Record<Entry['section'], ProviderKind>> = { sources: 'source', actors: 'actor', transforms: 'transform', loggers: 'logger' };

/** The provider names a project's entries are written with (connector, type, or package). */
function* providerNamesOf(entries: Entry[]): Iterable<{ kind: ProviderKind; written: string }> {
  for (const e of entries) {
    const kind = SECTION_KIND[e.section];
    const v = e.value as Record<string, unknown> | null;
    if (!kind || !v || typeof v !== 'object') continue;
    const written = kind === 'source' || kind === 'actor' ? v.connector : kind === 'transform' && v.type === 'package' ? v.package : v.type;
    if (typeof written === 'string' && written.trim()) yield { kind, written };
  }
}
