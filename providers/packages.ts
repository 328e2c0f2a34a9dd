// Providers from npm packages installed in the project (DESIGN §7, "Provider packages").
//
// A name that is not a built-in is looked up as a package in the node_modules of the project
// directory or one of its parents (Node's own search order), never in orgloop's install
// directory: a global orgloop runs the packages each project installed. The package's entry is
// found from its package.json (`exports` with the import/node/default conditions, else `main`)
// and imported; its default export is a provider, or a list of providers of different kinds (a
// vendor package with a source and an actor). Every provider passes admitProvider().

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { admitProvider } from './contract.js';
import type { Provider, ProviderKind } from './types.js';

const PACKAGE_PREFIX: Record<ProviderKind, string> = {
  source: '@orgloop/connector-',
  actor: '@orgloop/connector-',
  transform: '@orgloop/transform-',
  logger: '@orgloop/logger-',
};

const PACKAGE_NAME = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i;

/**
 * Packages that may provide `written` (as the config wrote it; `name` is its short form): the
 * full package name when one was written, else `@orgloop/connector-<name>` (or -transform-,
 * -logger-) and then the bare name as a package of its own.
 */
export function packageCandidates(kind: ProviderKind, written: string, name: string): string[] {
  const out: string[] = [];
  const add = (p: string) => PACKAGE_NAME.test(p) && !out.includes(p) && out.push(p);
  if (written.startsWith('@') || written.includes('/')) add(written);
  else {
    add(PACKAGE_PREFIX[kind] + name);
    add(name);
  }
  return out;
}

/** The package a user should install for `written` (named in "not installed" errors). */
export function packageToInstall(kind: ProviderKind, written: string, name: string): string | undefined {
  return packageCandidates(kind, written, name)[0];
}

/** node_modules/<pkg> in `dir` or the nearest parent that has it. */
export function findPackageDir(dir: string, pkg: string): string | undefined {
  let at = resolve(dir);
  for (;;) {
    const candidate = join(at, 'node_modules', pkg);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const up = dirname(at);
    if (up === at) return undefined;
    at = up;
  }
}

const CONDITIONS = ['import', 'node', 'default'];

function pickExport(target: unknown): string | undefined {
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const t of target) {
      const hit = pickExport(t);
      if (hit) return hit;
    }
    return undefined;
  }
  if (target && typeof target === 'object') {
    for (const [cond, value] of Object.entries(target)) if (CONDITIONS.includes(cond)) return pickExport(value);
  }
  return undefined;
}

/** The file `import(pkg)` would load, from the package's own package.json. */
function entryOf(pkgDir: string, manifest: Record<string, unknown>): string {
  const exp = manifest.exports;
  let rel: string | undefined;
  if (exp !== undefined) {
    const root = exp && typeof exp === 'object' && !Array.isArray(exp) && Object.keys(exp).some((k) => k.startsWith('.')) ? (exp as Record<string, unknown>)['.'] : exp;
    rel = pickExport(root);
    if (!rel) throw new Error('its package.json "exports" has no "." entry for import');
  } else rel = typeof manifest.main === 'string' ? manifest.main : 'index.js';
  const file = resolve(pkgDir, rel);
  if (!file.startsWith(pkgDir)) throw new Error('its entry point lies outside the package');
  if (existsSync(file) && statSync(file).isDirectory()) return join(file, 'index.js');
  return file;
}

export interface LoadedPackage {
  package: string;
  version: string;
  dir: string;
  providers: Provider[];
}

export type PackageLookup = { found: LoadedPackage } | { missing: string[] } | { error: string; package: string };

const cache = new Map<string, Promise<LoadedPackage>>();

/** Imports a package directory once per process and admits the providers it exports. */
async function importPackage(pkgDir: string, pkg: string): Promise<LoadedPackage> {
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as Record<string, unknown>;
  const mod = (await import(pathToFileURL(entryOf(pkgDir, manifest)).href)) as Record<string, unknown>;
  const exported = mod.default ?? mod.provider ?? mod.providers;
  if (exported === undefined) throw new Error('it has no default export (export default a provider, or a list of providers)');
  const list = Array.isArray(exported) ? exported : [exported];
  const providers: Provider[] = [];
  for (const value of list) {
    const r = admitProvider(value);
    if ('error' in r) throw new Error(r.error);
    providers.push(r.provider);
  }
  return { package: pkg, version: String(manifest.version ?? '0.0.0'), dir: pkgDir, providers };
}

/** Finds and loads the first installed candidate that provides a `kind` provider. */
export async function loadFromPackages(projectDir: string, kind: ProviderKind, candidates: string[]): Promise<PackageLookup> {
  for (const pkg of candidates) {
    const dir = findPackageDir(projectDir, pkg);
    if (!dir) continue;
    let loading = cache.get(dir);
    if (!loading) {
      loading = importPackage(dir, pkg);
      cache.set(dir, loading);
    }
    try {
      const found = await loading;
      if (!found.providers.some((p) => p.kind === kind)) {
        return { error: `it provides ${found.providers.map((p) => `a ${p.kind}`).join(' and ')}, not a ${kind}`, package: pkg };
      }
      return { found };
    } catch (err) {
      cache.delete(dir); // a fixed install is picked up by the next load in a long-lived process
      return { error: (err as Error).message, package: pkg };
    }
  }
  return { missing: candidates };
}

/** Provider packages installed in the project's node_modules (names that follow the @orgloop/ scheme, or that declare the keyword `orgloop-provider`). */
export function installedProviderPackages(projectDir: string): string[] {
  const out = new Set<string>();
  let at = resolve(projectDir);
  for (;;) {
    const nm = join(at, 'node_modules');
    if (existsSync(nm)) {
      const scoped = join(nm, '@orgloop');
      if (existsSync(scoped)) {
        for (const d of readdirSync(scoped)) if (/^(connector|transform|logger)-/.test(d)) out.add(`@orgloop/${d}`);
      }
      for (const d of safeList(nm)) {
        const names = d.startsWith('@') && d !== '@orgloop' ? safeList(join(nm, d)).map((s) => `${d}/${s}`) : d.startsWith('.') || d.startsWith('@') ? [] : [d];
        for (const n of names) if (declaresKeyword(join(nm, n))) out.add(n);
      }
    }
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  return [...out].sort();
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function declaresKeyword(pkgDir: string): boolean {
  try {
    const m = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { keywords?: unknown };
    return Array.isArray(m.keywords) && m.keywords.includes('orgloop-provider');
  } catch {
    return false;
  }
}

/** Loads a package by name for `orgloop providers` (any kind). */
export async function loadPackage(projectDir: string, pkg: string): Promise<LoadedPackage | { error: string; package: string }> {
  const dir = findPackageDir(projectDir, pkg);
  if (!dir) return { error: 'not installed', package: pkg };
  try {
    return await importPackage(dir, pkg);
  } catch (err) {
    return { error: (err as Error).message, package: pkg };
  }
}
