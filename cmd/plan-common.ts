// Plumbing shared by plan, apply and show: output format, color, loading the project and
// printing a plan. Kept light (no engine imports at module level).

import type { Command } from 'commander';
import { UserError } from '../engine/errors.js';
import type { Plan } from '../engine/plan/types.js';
import type { ApplyResult } from '../engine/apply/apply.js';
import { durationFlag } from './util.js';
import { loadStateKey, type StateKey } from '../engine/secrets/key.js';

export type Format = 'text' | 'json' | 'markdown';

export function pickFormat(opts: { json?: boolean; format?: string }): Format {
  if (opts.json) return 'json';
  const f = opts.format ?? 'text';
  if (f !== 'text' && f !== 'json' && f !== 'markdown') {
    throw new UserError(`--format must be text, json or markdown (got "${f}")`);
  }
  return f;
}

/**
 * The state key for hashing sensitive values: ORGLOOP_STATE_KEY, else the per-user key file
 * (engine/secrets/key.ts). Read only when a plan or drift check meets a sensitive value.
 */
export function stateKey(): StateKey {
  return loadStateKey(process.env);
}

/** Commander option parser for a repeatable flag: each use adds one value. */
export function repeatable(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export async function renderPlan(plan: Plan, format: Format, color: boolean): Promise<string> {
  if (format === 'json') return (await import('../engine/plan/render-json.js')).renderJson(plan);
  if (format === 'markdown') return (await import('../engine/plan/render-markdown.js')).renderMarkdown(plan);
  return (await import('../engine/plan/render-text.js')).renderText(plan, { color });
}

/** What `apply` and `up` say once an apply has gone through: one wording for both. */
export function applyComplete(plan: Plan, result: ApplyResult): string {
  const s = result.summary;
  const moved = plan.moves?.length ? `, ${plan.moves.length} moved` : '';
  const serial = result.version ? `State serial: ${result.version.serial}\n` : '';
  return `\nApply complete! Resources: ${s.add} added, ${s.change} changed, ${s.destroy} destroyed${moved}.\n${serial}`;
}

export function parseLockTimeout(text: string): number {
  return durationFlag('--lock-timeout', text, { zero: true });
}

/** `--refresh=false` / `--no-refresh` (Terraform's `-refresh=false`) on plan, apply, up and rollback. */
export function addRefreshFlags(cmd: Command): Command {
  return cmd
    .option('--refresh [bool]', 'read the external objects providers manage (e.g. GitHub webhooks) back first, to recreate or repair what changed outside orgloop', true)
    .option('--no-refresh', 'plan against the state as recorded, without reading managed objects (same as --refresh=false)');
}

/** The --refresh value as a boolean; anything but true/false is refused. */
export function refreshWanted(value: unknown): boolean {
  if (value === undefined || value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new UserError(`--refresh must be true or false (got "${String(value)}")`);
}

/**
 * Terraform users type `plan -out FILE` / `-out=FILE`. Commander only knows one-letter short
 * flags (and would read `-out` as `-o ut`), so main.ts parses a translated copy of the argument
 * list: `-out` becomes `--out` (and `-refresh=false`, `-destroy`, `-diff`, `-check`, `-json`, ... gain their second dash).
 */
// `fmt -check` would otherwise read as `-c heck`: a config file named "heck"
const TERRAFORM_FLAGS = new Set(['-destroy', '-diff', '-check', '-json', '-auto-approve', '-detailed-exitcode']);

export function terraformArgs(argv: readonly string[]): string[] {
  const out = [...argv];
  for (let i = 2; i < out.length; i++) {
    if (out[i] === '--') break;
    if (out[i] === '-out') out[i] = '--out';
    else if (out[i].startsWith('-out=')) out[i] = '--out=' + out[i].slice(5);
    else if (out[i].startsWith('-refresh=')) out[i] = '-' + out[i];
    else if (TERRAFORM_FLAGS.has(out[i]!)) out[i] = '-' + out[i];
  }
  return out;
}

/** What the console's drift check runs: `orgloop drift` against this store, with the state key. */
export function driftCheck(store: import('../state/store.js').Store): () => Promise<import('../engine/drift/drift.js').DriftReport> {
  return async () => (await import('../engine/drift/drift.js')).detectDrift(store, { stateKey });
}
