// Drift: what differs between the applied version and the world, without reading the project's
// YAML. Four checks: prompt files changed on disk, secrets whose ${VAR} now resolves to another
// value, external objects a provider manages (its `read` hook), and executors still running an
// older version. Health (an actor failing) is not drift.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ProviderBase } from '../../providers/types.js';
import type { Inspection, StateReader } from '../../state/store.js';
import type { Address, ResourceState, StateSnapshot } from '../graph/types.js';
import { UserError } from '../errors.js';
import { sha256Hex } from '../graph/canonical.js';
import { formatPath } from '../graph/paths.js';
import { checkSecretHash, hashKeyId, INLINE_TEMPLATE, secretsIn, type KeySource, type StateKey, type StoredSecret } from '../secrets/index.js';

export type DriftKind = 'prompt' | 'secret' | 'external' | 'executor';

export interface DriftItem {
  kind: DriftKind;
  /** the resource (or `executor.<id>`) that drifted */
  address: string;
  /** where inside it: a prompt file, a secret's path, ... */
  detail: string;
  message: string;
}

export interface DriftReport {
  format_version: 1;
  lineage: string;
  serial: number;
  drifted: boolean;
  items: DriftItem[];
  /** checks that could not be made (a provider's API unreachable...): not drift, but not verified */
  errors: Array<{ address: string; message: string }>;
  /** things worth knowing that are not drift (an executor that stopped heartbeating...) */
  notes: string[];
  checked: { prompts: number; secrets: number; external: number; executors: number };
}

export interface DriftOptions {
  /** variable lookup for secrets (default: shell, then the project's .env) */
  env?: (name: string) => string | undefined;
  providerFor?: (kind: ResourceState['kind'], name: string) => ProviderBase | undefined;
  now?: number;
  /** an executor silent for longer than this is not running (default 60 s; they beat every 5 s) */
  executorStaleMs?: number;
  /** the state key the secret hashes were made with (engine/secrets/key.ts) */
  stateKey?: KeySource;
}

function promptFileOf(r: ResourceState): string | null {
  const w = (r.attributes as { with?: { prompt_file?: unknown } }).with;
  return typeof w?.prompt_file === 'string' ? w.prompt_file : null;
}

function checkPrompt(address: Address, r: ResourceState, dir: string): DriftItem | null {
  const file = promptFileOf(r);
  if (!r.prompt_sha256 || !file) return null;
  let text: string;
  try {
    text = readFileSync(resolve(dir, file), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { kind: 'prompt', address, detail: file, message: `prompt file ${file} ${code === 'ENOENT' ? 'was deleted' : `cannot be read (${code ?? (err as Error).message})`} since apply` };
  }
  const sha = sha256Hex(text);
  if (sha === r.prompt_sha256) return null;
  return {
    kind: 'prompt',
    address,
    detail: file,
    message: `prompt file ${file} changed since apply (applied sha256 ${r.prompt_sha256.slice(0, 12)}, on disk ${sha.slice(0, 12)})`,
  };
}

/** A drift item when the secret's variable now resolves to another value; an error message when that cannot be told. */
function checkSecret(
  address: Address,
  path: string,
  secret: StoredSecret,
  salt: string,
  key: () => StateKey | null,
  lookup: (t: string) => string,
): { item: DriftItem } | { error: string } | null {
  const { template, hash } = secret.$secret;
  let value: string;
  try {
    value = lookup(template);
  } catch (err) {
    return { item: { kind: 'secret', address, detail: path, message: `${path} (${template}) no longer resolves: ${(err as Error).message}` } };
  }
  const k = hashKeyId(hash) === 'legacy' ? null : key();
  const check = checkSecretHash(hash, k, salt, value);
  if (check === 'same') return null;
  if (check === 'other-key') {
    return { error: `${path} (${template}): its hash was made with another state key${k ? ` than ${k.source}` : ''}, so whether it changed cannot be checked here; use the key it was applied with (ORGLOOP_STATE_KEY)` };
  }
  return { item: { kind: 'secret', address, detail: path, message: `${path} (${template}): the value changed since apply (sensitive value not shown)` } };
}

export async function detectDrift(store: StateReader & Pick<Inspection, 'executors'>, opts: DriftOptions = {}): Promise<DriftReport> {
  const meta = await store.meta();
  const current = await store.current();
  if (!current) throw new UserError(`nothing has been applied yet in ${store.location}; there is nothing to compare`);
  const snapshot: StateSnapshot = current.snapshot;
  const dir = snapshot.project.dir;
  const { projectEnv, substitute } = await import('../config/env.js');
  const env = opts.env ?? projectEnv(dir);
  const fillTemplate = (t: string) => substitute(t, env);
  let stateKey: StateKey | null | undefined;
  const key = () => (stateKey === undefined ? (stateKey = opts.stateKey?.() ?? null) : stateKey);

  const report: DriftReport = {
    format_version: 1,
    lineage: meta.lineage,
    serial: meta.serial,
    drifted: false,
    items: [],
    errors: [],
    notes: [],
    checked: { prompts: 0, secrets: 0, external: 0, executors: 0 },
  };
  const addresses = Object.keys(snapshot.resources).sort();

  for (const address of addresses) {
    const r = snapshot.resources[address]!;
    if (r.prompt_sha256 && promptFileOf(r)) {
      report.checked.prompts++;
      const item = checkPrompt(address, r, dir);
      if (item) report.items.push(item);
    }
    for (const found of secretsIn(r.attributes)) {
      const path = formatPath(found.path);
      if (found.secret.$secret.template === INLINE_TEMPLATE) {
        report.notes.push(`${address} ${path} was written inline; its value is not stored, so it cannot be checked`);
        continue;
      }
      report.checked.secrets++;
      const result = checkSecret(address, path, found.secret, meta.secret_salt, key, fillTemplate);
      if (result && 'item' in result) report.items.push(result.item);
      else if (result) report.errors.push({ address, message: result.error });
    }
  }

  if (!opts.providerFor) await (await import('../registry-load.js')).ensureSnapshotProviders(snapshot);
  const providerFor = opts.providerFor ?? (await registryLookup());
  for (const address of addresses) {
    const r = snapshot.resources[address]!;
    if (!r.provider_state || r.kind === 'route') continue;
    const provider = providerFor(r.kind, r.provider);
    if (!provider?.read) continue;
    report.checked.external++;
    try {
      const { readManaged, refreshReason } = await import('../plan/refresh.js');
      const observed = await readManaged(r, provider, { env, projectDir: dir, warn: (m) => report.notes.push(`${address}: ${m}`) });
      const differences = observed.differences ?? [];
      // The provider's own words (which hook, which field, disabled...), as plan shows them.
      if (!observed.exists) {
        report.items.push({ kind: 'external', address, detail: differences.join('; ') || 'deleted', message: refreshReason({ address, provider: r.provider, status: 'deleted', differences }) });
      } else {
        for (const d of differences) report.items.push({ kind: 'external', address, detail: d, message: `changed outside orgloop: ${d}` });
      }
    } catch (err) {
      report.errors.push({ address, message: `could not read the ${r.provider} object: ${(err as Error).message}` });
    }
  }

  const now = opts.now ?? Date.now();
  const staleMs = opts.executorStaleMs ?? 60_000;
  for (const e of await store.executors()) {
    const silent = now - Date.parse(e.heartbeat_at);
    if (!(silent <= staleMs)) {
      report.notes.push(`executor ${e.id} (${e.host}, pid ${e.pid}) has not sent a heartbeat for ${Math.round(silent / 1000)}s; treated as not running`);
      continue;
    }
    report.checked.executors++;
    if (e.serial_loaded < meta.serial) {
      report.items.push({
        kind: 'executor',
        address: `executor.${e.id}`,
        detail: `serial ${e.serial_loaded}`,
        message: `executor ${e.id} (${e.host}, pid ${e.pid}) is running version ${e.serial_loaded}; the current version is ${meta.serial}`,
      });
    }
  }

  report.drifted = report.items.length > 0;
  return report;
}

async function registryLookup(): Promise<NonNullable<DriftOptions['providerFor']>> {
  const { getProvider } = await import('../../providers/registry.js');
  return (kind, name) => (kind === 'route' ? undefined : getProvider(kind, name));
}

export function renderDriftText(report: DriftReport): string {
  const lines: string[] = [];
  const c = report.checked;
  const scope = `${c.prompts} prompt file${c.prompts === 1 ? '' : 's'}, ${c.secrets} secret${c.secrets === 1 ? '' : 's'}, ${c.external} managed object${c.external === 1 ? '' : 's'}, ${c.executors} executor${c.executors === 1 ? '' : 's'}`;
  if (!report.items.length) {
    lines.push(`No drift: version ${report.serial} matches reality (checked ${scope}).`);
  } else {
    lines.push(`Drift detected against version ${report.serial}:`, '');
    const kinds: Array<[DriftKind, string]> = [
      ['prompt', 'Prompt files'],
      ['secret', 'Secrets'],
      ['external', 'Managed objects'],
      ['executor', 'Executors'],
    ];
    for (const [kind, title] of kinds) {
      const items = report.items.filter((i) => i.kind === kind);
      if (!items.length) continue;
      lines.push(`${title}:`);
      for (const i of items) lines.push(`  ~ ${i.address}: ${i.message}`);
      lines.push('');
    }
    const n = report.items.length;
    lines.push(`${n} drifted item${n === 1 ? '' : 's'} (checked ${scope}).`);
    if (report.items.some((i) => i.kind !== 'executor')) {
      lines.push(
        report.items.some((i) => i.kind === 'external')
          ? 'Run `orgloop plan` to see what applying the configuration would change; apply recreates or repairs managed objects.'
          : 'Run `orgloop plan` to see what applying the configuration would change.',
      );
    }
  }
  if (report.errors.length) {
    lines.push('', 'Could not check:');
    for (const e of report.errors) lines.push(`  ! ${e.address}: ${e.message}`);
  }
  if (report.notes.length) {
    lines.push('', 'Notes:');
    for (const n of report.notes) lines.push(`  - ${n}`);
  }
  return lines.join('\n') + '\n';
}
