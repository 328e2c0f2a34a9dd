// `orgloop init`: copy the quickstart example into a directory, naming the project after it.

import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import { addConnectors, type ConnectorChoice } from './scaffold-connectors.js';
// what init writes is what `orgloop fmt` would write: `fmt --check` passes on a fresh project
import { formatYaml } from './fmt.js';

/** The template's orgloop.yaml with `init --connectors` additions; their variables go to .env.example. */
function withConnectors(text: string, connectors: ConnectorChoice[] | undefined, dir: string): string {
  if (!connectors?.length) return text;
  const added = addConnectors(text, connectors);
  if (added.vars.length) {
    const envFile = join(dir, '.env.example');
    const prior = existsSync(envFile) ? readFileSync(envFile, 'utf8') : '';
    writeFileSync(envFile, `${prior}${prior && !prior.endsWith('\n') ? '\n' : ''}\n# connectors added by init --connectors\n${added.vars.map((v) => `${v}=`).join('\n')}\n`);
  }
  return added.text;
}

// npm drops .gitignore files from published packages, so this one is written from here.
// .env.<workspace> holds a named workspace's values (engine/config/env.ts): as secret as .env.
const GITIGNORE = '.orgloop/\n.env\n.env.*\n!.env.example\n';

/** examples/quickstart of this installation (dist/engine/config -> package root). */
export function quickstartDir(): string {
  for (const up of ['../../../examples/quickstart', '../../examples/quickstart']) {
    const dir = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(join(dir, 'orgloop.yaml'))) return dir;
  }
  throw new Error('examples/quickstart is missing from this orgloop installation');
}

// Running the quickstart in place (README) leaves state and local files that are not template.
const NOT_TEMPLATE = new Set(['.orgloop', '.env', '.gitignore', 'node_modules']);

function listFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (NOT_TEMPLATE.has(name)) continue;
    const abs = join(dir, name);
    if (statSync(abs).isDirectory()) out.push(...listFiles(abs, base));
    else out.push(relative(base, abs));
  }
  return out;
}

/** A project name from a directory name: lower-case letters, digits and dashes. */
export function projectName(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
  return name || 'orgloop-project';
}

function packageJson(name: string): string {
  const pkg = {
    name,
    private: true,
    description: 'An orgloop project: sources, actors, routes, transforms and loggers as code',
    scripts: { plan: 'orgloop plan', apply: 'orgloop apply', start: 'orgloop up' },
  };
  return JSON.stringify(pkg, null, 2) + '\n';
}

export interface ScaffoldResult {
  dir: string;
  name: string;
  files: string[];
}

export interface ScaffoldOptions {
  force?: boolean;
  connectors?: ConnectorChoice[];
  /** the project's name (default: from the directory's name) */
  name?: string;
  /** add Claude Code's Stop hook to .claude/settings.json (the claude-code source comes with --connectors) */
  claudeHook?: boolean;
}

const NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** The Stop hook entry `orgloop hook claude-code-stop` needs (docs/connectors.md). */
const STOP_HOOK = { type: 'command', command: 'orgloop hook claude-code-stop', timeout: 10 };

/** .claude/settings.json with the Stop hook added, keeping whatever else the file has. */
function withClaudeHook(file: string): string {
  let settings: Record<string, any> = {};
  if (existsSync(file)) {
    try {
      settings = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new UserError(`${file} is not JSON (${(err as Error).message}); add the hook by hand (docs/connectors.md, claude-code)`);
    }
  }
  const hooks = (settings.hooks ??= {});
  const stop: any[] = (hooks.Stop ??= []);
  const present = stop.some((g) => Array.isArray(g?.hooks) && g.hooks.some((h: any) => typeof h?.command === 'string' && h.command.includes('hook claude-code-stop')));
  if (!present) stop.push({ hooks: [STOP_HOOK] });
  return JSON.stringify(settings, null, 2) + '\n';
}

export function scaffoldProject(target: string, opts: ScaffoldOptions = {}): ScaffoldResult {
  if (opts.name !== undefined && !NAME.test(opts.name)) {
    throw new UserError(`invalid project name "${opts.name}": use lower-case letters, digits, - and _, starting with a letter or digit`);
  }
  const dir = resolve(target);
  const template = quickstartDir();
  // The seed's getting-started runs `npm install` after init: give it a package.json to read,
  // but never replace one the directory already has.
  const withPackage = !existsSync(join(dir, 'package.json'));
  const files = [...listFiles(template), '.gitignore', ...(withPackage ? ['package.json'] : [])];
  if (!opts.force) {
    const existing = files.filter((f) => existsSync(join(dir, f)));
    if (existing.length) {
      throw new UserError(`${dir} already has ${existing.join(', ')}; nothing was written (use --force to overwrite these files)`);
    }
  }
  const name = opts.name ?? projectName(dir);
  for (const f of files) {
    const dest = join(dir, f);
    mkdirSync(join(dest, '..'), { recursive: true });
    if (f === '.gitignore') writeFileSync(dest, GITIGNORE);
    else if (f === 'package.json') writeFileSync(dest, packageJson(name));
    else if (f === 'orgloop.yaml') writeFileSync(dest, formatYaml(withConnectors(readFileSync(join(template, f), 'utf8').replace(/^name: quickstart$/m, `name: ${name}`), opts.connectors, dir), dest));
    else copyFileSync(join(template, f), dest);
  }
  if (opts.claudeHook) {
    // merged into an existing file rather than refused: the user asked for the hook there
    const file = join(dir, '.claude', 'settings.json');
    const text = withClaudeHook(file);
    mkdirSync(join(dir, '.claude'), { recursive: true });
    writeFileSync(file, text);
    files.push('.claude/settings.json');
  }
  return { dir, name, files };
}
