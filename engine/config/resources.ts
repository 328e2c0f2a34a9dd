// Turns one declared item into a DesiredResource: substitute ${VAR}, check it against its item
// schema and its provider's config schema, run the provider's own checks, and normalize names.

import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import type { Provider, ProviderKind } from '../../providers/types.js';
import { getProvider, normalizeProviderName, providerNames, type PackageProblem } from '../../providers/registry.js';
import { parseDuration } from '../../providers/lib/duration.js';
import { blankSecretIssues } from '../../providers/lib/blank-secret.js';
import { sensitiveConfigFields } from '../secrets/index.js';
import type { DesiredResource, ResourceKind, Spec } from '../graph/types.js';
import type { Entry, Section } from './collect.js';
import type { Diagnostics } from './diagnostics.js';
import type { EnvLookup } from './env.js';
import { ITEM_SCHEMAS } from './schema.js';
import { displayPath, type PathSeg } from './source.js';
import { didYouMean } from './suggest.js';
import { resolveTemplates } from './templates.js';
import { check, dotted } from './validator.js';

export interface BuildContext {
  lookup: EnvLookup;
  diags: Diagnostics;
  dir: string;
  defaults: Record<string, unknown>;
  /** sha256 -> text */
  prompts: Record<string, string>;
  /** absolute prompt path -> sha256 (or null when unreadable), so shared SOPs are read once */
  promptCache: Map<string, { sha256: string } | { error: string }>;
  /** names no built-in or installed package provides, keyed `kind:written` (from ensureProviders) */
  packages?: Map<string, PackageProblem>;
  /** real paths prompt files may resolve into: the project directory and `defaults.prompt_roots` */
  promptRoots: string[];
  /** `validate` runs without secrets: an unset variable is a warning there, an error elsewhere */
  unsetVars?: 'error' | 'warn';
}

const KIND: Record<Section, ResourceKind> = { sources: 'source', actors: 'actor', transforms: 'transform', loggers: 'logger', routes: 'route' };
const NAME_FIELD: Record<Section, string> = { sources: 'id', actors: 'id', transforms: 'name', loggers: 'name', routes: 'name' };
const NOUN: Record<ProviderKind, string> = { source: 'source connector', actor: 'actor connector', transform: 'transform type', logger: 'logger type' };

export function label(entry: Entry): string {
  const v = entry.value as Record<string, unknown>;
  const name = v[NAME_FIELD[entry.section]];
  return typeof name === 'string' && name ? `${KIND[entry.section]} "${name}"` : `${entry.section}[${entry.path[entry.path.length - 1]}]`;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function buildResource(entry: Entry, ctx: BuildContext): DesiredResource | undefined {
  const { diags } = ctx;
  const where = label(entry);
  const at = (path: PathSeg[], message: string, severity: 'error' | 'warning' = 'error', key = false) =>
    diags.at(entry.src, [...entry.path, ...path], `${where}: ${message}`, severity, { key });

  const errorsBefore = diags.errors.length;
  const resolved = resolveTemplates(entry.value, ctx.lookup);
  const unsetAt: string[] = [];
  for (const p of resolved.problems) {
    if (p.unset && ctx.unsetVars === 'warn') {
      unsetAt.push(dotted(p.path));
      at(p.path, `${dotted(p.path)}: ${p.message.replace(/ \(and has no default.*$/, '')} (plan, apply and start need it)`, 'warning');
    } else at(p.path, `${dotted(p.path)}: ${p.message}`);
  }
  const item = resolved.value as Record<string, any>;
  for (const issue of check(ITEM_SCHEMAS[entry.section], item, [], entry.section === 'routes' ? routeKeysStrict : undefined)) at(issue.path, issue.message, issue.severity, issue.atKey);

  const kind = KIND[entry.section];
  let spec: Spec;
  let provider: string;
  if (kind === 'route') {
    spec = routeSpec(item, entry, ctx, at);
    provider = 'route';
  } else {
    const field = kind === 'source' || kind === 'actor' ? 'connector' : 'type';
    const written = kind === 'transform' && item.type === 'package' ? item.package : item[field];
    const p = typeof written === 'string' ? providerNamed(kind, written, kind === 'transform' && item.type === 'package' ? ['package'] : [field], at, ctx.packages) : undefined;
    provider = p?.name ?? (typeof written === 'string' ? normalizeProviderName(kind, written) : '');
    let config = isObject(item.config) ? item.config : {};
    if (kind === 'transform' && provider === 'script' && typeof item.script === 'string') config = scriptConfig(item, config, entry, ctx, at);
    else if (kind === 'transform' && (item.script !== undefined || item.timeout_ms !== undefined)) {
      at([item.script !== undefined ? 'script' : 'timeout_ms'], `${item.script !== undefined ? 'script' : 'timeout_ms'} applies to type: script transforms only (ignored)`, 'warning', true);
    }
    const lifted = kind === 'source' ? liftPollInterval(item, config, p) : { item, config };
    config = lifted.config;
    // A config with an unresolved ${...} would only produce follow-on errors; an unset variable
    // in validate only hides the checks of the fields that name it.
    const blocked = resolved.problems.some((x) => x.path[0] === 'config' && !(x.unset && ctx.unsetVars === 'warn'));
    if (p && !blocked) checkConfig(p, config, unsetAt.length ? unsetFilter(at, unsetAt) : at, at, { projectDir: ctx.dir, env: (n) => ctx.lookup(n) ?? undefined });
    spec = providerSpec(kind, lifted.item, provider, config, p, ctx, at);
  }
  if (diags.errors.length > errorsBefore) return undefined;

  const name = item[NAME_FIELD[entry.section]] as string;
  const templates: Record<string, string> = {};
  for (const [path, template] of Object.entries(resolved.templates)) {
    if (typeof getPath(spec, path) === 'string') templates[path] = template;
  }
  const pos = entry.src.startOf(entry.value) ?? entry.src.pos(entry.path);
  const res: DesiredResource = { address: `${kind}.${name}`, kind, name, provider, spec, templates, dependsOn: [], pos: { file: entry.src.display, ...pos } };
  if (kind === 'route') {
    const pf = (spec as { with?: { prompt_file?: string } }).with?.prompt_file;
    if (pf) {
      const cached = ctx.promptCache.get(resolve(ctx.dir, pf));
      if (cached && 'sha256' in cached) res.prompt = { file: pf, sha256: cached.sha256 };
    }
  }
  return res;
}

/** A route's when/then/with decide what it does: an unknown key there is an error. */
const routeKeysStrict = (path: PathSeg[]) => path.length === 2 && (path[0] === 'when' || path[0] === 'then' || path[0] === 'with');

type At = (path: PathSeg[], message: string, severity?: 'error' | 'warning', key?: boolean) => void;

/** The provider a resource names (its connector/type), or undefined after reporting why there is none. */
function providerNamed(kind: ProviderKind, written: string, path: PathSeg[], at: At, packages?: Map<string, PackageProblem>): Provider | undefined {
  const name = normalizeProviderName(kind, written);
  const p = getProvider(kind, name);
  if (p) return p;
  const other = (['source', 'actor', 'transform', 'logger'] as const).find((k) => k !== kind && getProvider(k, name));
  if (other) {
    at(path, `"${written}" is a ${NOUN[other]}, not ${kind === 'actor' ? 'an' : 'a'} ${NOUN[kind]}`);
    return undefined;
  }
  const problem = packages?.get(`${kind}:${written}`);
  if (problem?.kind === 'broken') {
    at(path, `package ${problem.package} cannot be used as a ${NOUN[kind]}: ${problem.error}`);
    return undefined;
  }
  const suggestion = didYouMean(name, providerNames(kind));
  // A typo of a built-in gets the suggestion; a name that may be meant as a package also gets the install line.
  const install = problem?.kind === 'missing' && (!suggestion || written !== name) ? problem.install : undefined;
  const why = [written === name ? '' : `no built-in ${NOUN[kind]} named "${name}"`, install ? `package ${install} is not installed: npm install ${install}` : ''].filter(Boolean);
  at(path, `unknown ${NOUN[kind]} "${written}"${why.length ? ` (${why.join('; ')})` : ''}${suggestion}`);
  return undefined;
}

/** Drops diagnostics about a field whose value is an unset variable's template text. */
function unsetFilter(at: At, unsetAt: string[]): At {
  return (path, message, severity, key) => {
    const here = dotted(path);
    if (unsetAt.some((u) => here === u || here.startsWith(u + '.') || here.startsWith(u + '[') || u.startsWith(here + '.'))) return;
    at(path, message, severity, key);
  };
}

// `atAny` reports what does not depend on a field's value: an unknown key is ignored whether its
// variable is set or not, so validate (without secrets) names it just as plan does.
function checkConfig(p: Provider, config: Record<string, unknown>, at: At, atAny: At, where: { projectDir: string; env: (name: string) => string | undefined }): void {
  const issues = check(p.configSchema, config, ['config']);
  for (const issue of issues) at(issue.path, issue.message, issue.severity, issue.atKey);
  // Schemas that tolerate extra keys (additionalProperties true/absent) still get a warning for
  // keys they do not describe: usually a typo, or a field from another OrgLoop version.
  const props = p.configSchema.properties as Record<string, unknown> | undefined;
  const extra = p.configSchema.additionalProperties;
  if (props && (extra === undefined || extra === true) && !p.configSchema.patternProperties) {
    for (const key of Object.keys(config)) if (!(key in props)) atAny(['config', key], `unknown field config.${key} (ignored)`, 'warning', true);
  }
  for (const b of blankSecretIssues(config, sensitiveConfigFields(p, config))) at(['config', ...b.path.split('.')], b.message);
  if (issues.some((i) => i.severity === 'error') || !p.validate) return;
  for (const v of p.validate(config, where)) {
    const path = v.path ? ['config', ...v.path.split('.')] : ['config'];
    at(path, `${dotted(path)}: ${v.message}`, v.severity ?? 'error');
  }
}

function durationCheck(value: unknown, path: PathSeg[], at: At): void {
  if (typeof value !== 'string') return;
  try {
    if (parseDuration(value) <= 0) at(path, `${dotted(path)} must be greater than zero`);
  } catch (err) {
    at(path, `${dotted(path)}: ${(err as Error).message}`);
  }
}

/**
 * OrgLoop's docs also write a polled source's interval inside its config (`config.poll.interval`,
 * `config.poll_interval`); OrgLoop reads only `poll.interval` and polls at its default. The
 * interval written is meant, so it is the source's `poll.interval` unless one is set there.
 */
function liftPollInterval(item: Record<string, any>, config: Record<string, unknown>, p: Provider | undefined): { item: Record<string, any>; config: Record<string, unknown> } {
  if (p?.kind !== 'source' || p.polling !== true) return { item, config };
  const props = (p.configSchema.properties ?? {}) as Record<string, unknown>;
  const nested = !('poll' in props) && isObject(config.poll) ? config.poll.interval : undefined;
  const flat = !('poll_interval' in props) ? config.poll_interval : undefined;
  if (nested === undefined && flat === undefined) return { item, config };
  const rest = { ...config };
  if (nested !== undefined) delete rest.poll;
  if (flat !== undefined) delete rest.poll_interval;
  const interval = nested ?? flat;
  return { item: item.poll === undefined && typeof interval === 'string' ? { ...item, poll: { interval } } : item, config: rest };
}

function providerSpec(
  kind: ProviderKind,
  item: Record<string, any>,
  provider: string,
  config: Record<string, unknown>,
  p: Provider | undefined,
  ctx: BuildContext,
  at: At,
): Spec {
  const description = typeof item.description === 'string' ? { description: item.description } : {};
  if (kind === 'source') {
    const spec: Record<string, unknown> = { id: item.id, connector: provider, ...description, config };
    const polling = p?.kind === 'source' && p.polling === true;
    if (item.poll !== undefined) {
      durationCheck(item.poll?.interval, ['poll', 'interval'], at);
      if (p && !polling) at(['poll'], `poll is ignored: connector "${provider}" is not polled (it takes events as they arrive)`, 'warning', true);
      else if (isObject(item.poll)) spec.poll = { interval: item.poll.interval };
    } else if (polling && typeof ctx.defaults.poll_interval === 'string') {
      spec.poll = { interval: ctx.defaults.poll_interval };
    }
    return spec as unknown as Spec;
  }
  if (kind === 'actor') return { id: item.id, connector: provider, ...description, config };
  const onError = kind === 'transform' && typeof item.on_error === 'string' ? { on_error: item.on_error } : {};
  return { name: item.name, type: provider, ...description, config, ...onError } as unknown as Spec;
}

/**
 * OrgLoop's script transform shape (`type: script`, `script: ./x.sh`, `timeout_ms`, `on_error`)
 * as the script provider's config: the program path relative to the project (it is written
 * relative to the declaring file), exit 1 meaning drop as in OrgLoop's script contract.
 */
function scriptConfig(item: Record<string, any>, config: Record<string, unknown>, entry: Entry, ctx: BuildContext, at: At): Record<string, unknown> {
  const abs = resolve(dirname(entry.src.path), item.script as string);
  try {
    if (!statSync(abs).isFile()) at(['script'], `script "${item.script}" is not a file (looked for ${displayPath(abs)})`);
  } catch {
    at(['script'], `script "${item.script}" not found (looked for ${displayPath(abs)})`);
  }
  const rel = relative(ctx.dir, abs).split(sep).join('/');
  return {
    ...config,
    command: [rel.startsWith('.') || rel.startsWith('/') ? rel : `./${rel}`],
    ...(typeof item.timeout_ms === 'number' ? { timeout: `${item.timeout_ms}ms` } : {}),
    ...(typeof item.on_error === 'string' ? { on_error: item.on_error } : {}),
    drop_exit_codes: [1],
  };
}

function routeSpec(item: Record<string, any>, entry: Entry, ctx: BuildContext, at: At): Spec {
  const when = isObject(item.when) ? item.when : {};
  const then = isObject(item.then) ? item.then : {};
  // `{ ref }` alone is the name (so existing states do not change); `on_error` and `config` on a
  // reference are kept with it.
  const transforms = Array.isArray(item.transforms)
    ? item.transforms
        .map((t: unknown) => {
          if (typeof t === 'string') return t;
          if (!isObject(t) || typeof t.ref !== 'string') return undefined;
          if (t.on_error === undefined && !isObject(t.config)) return t.ref;
          return { ref: t.ref, ...(typeof t.on_error === 'string' ? { on_error: t.on_error } : {}), ...(isObject(t.config) ? { config: t.config } : {}) };
        })
        .filter((t: unknown) => t !== undefined)
    : [];
  const spec: Record<string, unknown> = {
    name: item.name,
    ...(typeof item.description === 'string' ? { description: item.description } : {}),
    when: {
      source: when.source,
      events: Array.isArray(when.events) ? [...when.events] : [],
      ...(isObject(when.filter) ? { filter: when.filter } : {}),
    },
    transforms,
    then: { actor: then.actor, ...(isObject(then.config) ? { config: then.config } : {}) },
  };
  if (isObject(then.config) && then.config.inbox === true) {
    durationCheck(then.config.inbox_ttl, ['then', 'config', 'inbox_ttl'], at);
    if (typeof then.config.session_key !== 'string' || !then.config.session_key) {
      at(['then', 'config', 'inbox'], 'inbox needs then.config.session_key (the key events are batched by): without one, events are delivered one by one', 'warning');
    }
  }
  const pf = isObject(item.with) ? item.with.prompt_file : undefined;
  if (typeof pf === 'string' && pf) {
    const tried = findPrompt(pf, entry, ctx);
    const abs = tried[0]!;
    const cached = readPrompt(abs, ctx);
    if ('error' in cached) at(['with', 'prompt_file'], `prompt_file "${pf}" ${cached.error} (looked for ${tried.map(displayPath).join(' and ')})`);
    spec.with = { prompt_file: relative(ctx.dir, abs).split(sep).join('/') };
  }
  if (isObject(item.delivery)) {
    durationCheck(item.delivery.timeout, ['delivery', 'timeout'], at);
    durationCheck(item.delivery.backoff, ['delivery', 'backoff'], at);
    if (Array.isArray(item.delivery.retry)) item.delivery.retry.forEach((d: unknown, i: number) => durationCheck(d, ['delivery', 'retry', i], at));
    spec.delivery = { ...item.delivery };
  }
  if (item.max_hops !== undefined) spec.max_hops = item.max_hops;
  return spec as unknown as Spec;
}

// Relative to the file declaring the route. Existing multi-file projects write
// `./sops/x.md` inside routes/*.yaml meaning the project's sops/, so fall back to the
// project directory when the file is not beside the route file.
/** The chosen path first, then any other path that was tried. */
function findPrompt(pf: string, entry: Entry, ctx: BuildContext): string[] {
  const primary = resolve(dirname(entry.src.path), pf);
  if (dirname(entry.src.path) === ctx.dir || !('error' in readPrompt(primary, ctx))) return [primary];
  const fallback = resolve(ctx.dir, pf);
  return 'error' in readPrompt(fallback, ctx) ? [primary, fallback] : [fallback];
}

/**
 * Prompt texts are printed in plans (markdown for public PR comments), so a prompt file must
 * resolve, after symlinks, inside the project directory or a listed `defaults.prompt_roots`:
 * `../secrets.env`, `/proc/self/environ` or a symlink out of the project is refused.
 */
function readPrompt(abs: string, ctx: BuildContext): { sha256: string } | { error: string } {
  let cached = ctx.promptCache.get(abs);
  if (!cached) {
    try {
      const real = realpathSync(abs);
      if (!ctx.promptRoots.some((root) => real === root || real.startsWith(root.endsWith(sep) ? root : root + sep))) {
        cached = {
          error:
            `resolves to ${real}, outside the project directory${ctx.promptRoots.length > 1 ? ' and defaults.prompt_roots' : ''}; ` +
            `move it into the project or list its directory under defaults.prompt_roots`,
        };
        ctx.promptCache.set(abs, cached);
        return cached;
      }
      const text = readFileSync(real, 'utf8');
      const sha256 = createHash('sha256').update(text).digest('hex');
      ctx.prompts[sha256] = text;
      cached = { sha256 };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      cached = { error: code === 'ENOENT' ? 'not found' : code === 'EISDIR' ? 'is a directory' : `cannot be read: ${(err as Error).message}` };
    }
    ctx.promptCache.set(abs, cached);
  }
  return cached;
}

function getPath(obj: unknown, dottedPath: string): unknown {
  let cur: unknown = obj;
  for (const seg of dottedPath.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}
