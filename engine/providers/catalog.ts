// What providers a project can use: the built-ins and the provider packages installed in its
// node_modules, each with a summary of its config schema (`orgloop providers`, `init --connectors`).

import { allProviders, ensureProviders, getProvider, isBuiltIn } from '../../providers/registry.js';
import { installedProviderPackages, loadPackage } from '../../providers/packages.js';
import type { JSONSchema, Provider, ProviderKind } from '../../providers/types.js';
import { UserError } from '../errors.js';

export interface FieldSummary {
  name: string;
  type: string;
  required: boolean;
  sensitive: boolean;
  description?: string;
  default?: unknown;
}

export interface CatalogEntry {
  kind: ProviderKind;
  name: string;
  /** `built-in`, or the package it comes from with its version */
  origin: string;
  description?: string;
  polling: boolean;
  webhook: boolean;
  /** what `orgloop import ADDR ID` takes as ID for this provider's object, or null when it has no importable object */
  import_id: string | null;
  contract_version: number;
  fields: FieldSummary[];
}

export interface Catalog {
  providers: CatalogEntry[];
  /** packages that look like providers but could not be loaded, with why */
  broken: Array<{ package: string; error: string }>;
}

function typeOf(s: Record<string, unknown>): string {
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join('|');
  if (Array.isArray(s.type)) return s.type.join('|');
  if (typeof s.type === 'string') return s.type === 'array' && s.items && typeof (s.items as Record<string, unknown>).type === 'string' ? `${(s.items as { type: string }).type}[]` : s.type;
  for (const k of ['oneOf', 'anyOf'] as const) {
    if (Array.isArray(s[k])) return (s[k] as Array<Record<string, unknown>>).map(typeOf).join('|');
  }
  return 'any';
}

/** The top-level config fields of a schema, required first; sensitivity from the schema flag or the provider's list. */
export function summarizeSchema(schema: JSONSchema, sensitive: readonly string[] = []): FieldSummary[] {
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const out = Object.entries(props).map(([name, s]) => {
    const f: FieldSummary = { name, type: typeOf(s ?? {}), required: required.has(name), sensitive: s?.sensitive === true || sensitive.includes(name) };
    if (typeof s?.description === 'string') f.description = s.description;
    if (s && 'default' in s) f.default = s.default;
    return f;
  });
  return out.sort((a, b) => Number(b.required) - Number(a.required));
}

export function catalogEntry(p: Provider, origin: string): CatalogEntry {
  const src = p.kind === 'source' ? p : undefined;
  return {
    kind: p.kind,
    name: p.name,
    origin,
    description: p.description,
    polling: !!src && (!!src.polling || (typeof src.poll === 'function' && !src.pollIntervalMs)),
    webhook: !!src && typeof src.handleWebhook === 'function',
    import_id: typeof p.import === 'function' ? (p.importId ?? 'see the provider\'s docs') : null,
    contract_version: p.contractVersion ?? 1,
    fields: summarizeSchema(p.configSchema, p.sensitive),
  };
}

/** Built-ins and every provider package installed for `projectDir`. */
export async function buildCatalog(projectDir: string): Promise<Catalog> {
  const providers = allProviders().map((p) => catalogEntry(p, 'built-in'));
  const broken: Catalog['broken'] = [];
  for (const pkg of installedProviderPackages(projectDir)) {
    const loaded = await loadPackage(projectDir, pkg);
    if ('error' in loaded) {
      broken.push({ package: pkg, error: loaded.error });
      continue;
    }
    for (const p of loaded.providers) providers.push(catalogEntry(p, `${loaded.package}@${loaded.version}`));
  }
  const order: ProviderKind[] = ['source', 'actor', 'transform', 'logger'];
  providers.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.name.localeCompare(b.name));
  return { providers, broken };
}

/**
 * The providers a list of names (as `init --connectors` takes them) stands for: a built-in or an
 * installed package, as a source and/or actor. Unknown names throw with what to install.
 */
export async function resolveConnectors(projectDir: string, names: string[]): Promise<Array<{ written: string; providers: Provider[] }>> {
  const out: Array<{ written: string; providers: Provider[] }> = [];
  for (const written of names) {
    const kinds: ProviderKind[] = ['source', 'actor'];
    const problems = await ensureProviders(
      projectDir,
      kinds.filter((k) => !isBuiltIn(k, written)).map((kind) => ({ kind, written })),
    );
    const found = kinds.map((k) => getProvider(k, written)).filter((p): p is Provider => !!p);
    if (found.length === 0) {
      const why = [...problems.values()].find((p) => p.kind === 'broken');
      const missing = [...problems.values()].find((p) => p.kind === 'missing');
      if (why?.kind === 'broken') throw new UserError(`connector "${written}": package ${why.package} cannot be used: ${why.error}`);
      throw new UserError(`unknown connector "${written}": no built-in source or actor has that name${missing?.kind === 'missing' ? `; if it is a package, install it first: npm install ${missing.install}` : ''}`);
    }
    out.push({ written, providers: found });
  }
  return out;
}
