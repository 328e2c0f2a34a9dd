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
    else if (project.entry) diags.at(project.entry, ['defaults', 'prompt_roots', i], `defaults.prompt_roots: ${r} does not exist`);
  });
  return roots;
}

export async function loadProject(file: string, opts: { env?: NodeJS.ProcessEnv; unsetVars?: 'error' | 'warn' } = {}): Promise<LoadedProject> {
  const diags = new Diagnostics();
  const project = collect(file, diags);
  const lookup = projectEnv(project.dir, opts.env ?? process.env);

  let defaults: Record<string, unknown> = {};
  if (project.entry && Object.keys(project.defaults).length > 0) {
    const r = resolveTemplates(project.defaults, lookup);
    for (const p of r.problems) diags.at(project.entry, ['defaults', ...p.path], `defaults.${dotted(p.path)}: ${p.message}`);
    defaults = r.value as Record<string, unknown>;
    if (Array.isArray(defaults.retry)) {
      defaults.retry.forEach((d, i) => {
        try {
          if (parseDuration(d as string) <= 0) diags.at(project.entry!, ['defaults', 'retry', i], `defaults.retry[${i}] must be greater than zero`);
        } catch (err) {
          diags.at(project.entry!, ['defaults', 'retry', i], `defaults.retry[${i}]: ${(err as Error).message}`);
        }
      });
    }
    for (const key of ['poll_interval', 'event_retention']) {
      const v = defaults[key];
      if (typeof v !== 'string') continue;
      try {
        parseDuration(v);
      } catch (err) {
        diags.at(project.entry, ['defaults', key], `defaults.${key}: ${(err as Error).message}`);
      }
    }
  }

  // Providers from packages load asynchronously, before any resource is checked against them.
  const packages = await ensureProviders(project.dir, providerNamesOf(project.entries));
  const ctx: BuildContext = { lookup, diags, dir: project.dir, defaults, prompts: {}, promptCache: new Map(), packages, promptRoots: promptRoots(project, defaults, diags), unsetVars: opts.unsetVars ?? 'error' };
  const built: Built[] = project.entries.map((entry) => ({ entry, resource: buildResource(entry, ctx) }));
  checkReferences(built, diags);

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
  };
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
