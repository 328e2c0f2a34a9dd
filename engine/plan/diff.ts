// The planner core: prior snapshot vs desired snapshot -> Plan. Pure (no I/O), so plan,
// rollback, `diff --from/--to` and drift all reuse it with snapshots from anywhere. This is the
// one place a Plan is built: what only the store knows (refresh results, in-flight deliveries,
// the version history) comes in as options, and nothing patches the plan afterwards.
// Apply applies its `changes` as recorded.

import { createRequire } from 'node:module';
import type { Address, ResourceKind, ResourceState, StateSnapshot } from '../graph/types.js';
import { analyzeTopology, inFlightImpact, pendingOfMove } from '../graph/topology.js';
import { reapplyWarning } from '../history/history.js';
import type { DeliveryCount, StateVersionInfo } from '../../state/store.js';
import { mergeRefresh } from './refresh.js';
import type { Targeting } from './targets.js';
import { canonicalJson } from '../graph/canonical.js';
import { formatPath, getAt } from '../graph/paths.js';
import { containsSecret, hashKeyId, isStoredSecret } from '../secrets/index.js';
import { declaration, declarationJson, DigestBuilder, snapshotDigest } from './snapshot.js';
import {
  PLAN_FORMAT_VERSION,
  byDisplayOrder,
  type FieldChange,
  type Plan,
  type PlanSummary,
  type PlanTraffic,
  type PromptChange,
  type RefreshedObject,
  type ResourceChange,
} from './types.js';

const require = createRequire(import.meta.url);
// Loaded on first use: most plans have few changed objects, and start-up time counts.
let jsonDiffMod: typeof import('json-diff') | null = null;
let difflibMod: typeof import('@ewoudenberg/difflib') | null = null;
const jsonDiff = () => (jsonDiffMod ??= require('json-diff') as typeof import('json-diff'));
const difflib = () => (difflibMod ??= require('@ewoudenberg/difflib') as typeof import('@ewoudenberg/difflib'));

export type ReplaceOnLookup = (kind: ResourceKind, provider: string) => readonly string[] | undefined;
export type BlobLookup = (sha256: string) => string | null;

export interface DiffOptions {
  replaceOn?: ReplaceOnLookup;
  /** state identity the plan is computed against */
  lineage?: string;
  serial?: number;
  origin?: Plan['origin'];
  /** prompt texts to embed for apply (sha -> text); defaults to what `blobs` can resolve */
  desiredBlobs?: Record<string, string>;
  warnings?: string[];
  now?: Date;
  /** --target / --exclude as given (recorded in the plan; `desired` is already the targeted snapshot) */
  targets?: Targeting;
  /** objects refresh found deleted or edited outside orgloop: folded into the changes */
  refreshed?: RefreshedObject[];
  /** pending deliveries per route and status, for the in-flight impact of removed routes and actors */
  deliveryCounts?: DeliveryCount[];
  /** `moved:` renames that take effect (prior is already renamed), and the snapshot before them */
  moves?: Array<{ from: Address; to: Address }>;
  applied?: StateSnapshot | null;
  /** the state's versions, to warn when the plan re-applies a rolled-back version */
  versions?: StateVersionInfo[];
  /** the plan's effect on recent events (traffic.ts), attached to the route changes */
  traffic?: PlanTraffic;
}

type Path = Array<string | number>;

/**
 * Plain JSON text first (snapshots are built in canonical key order), canonical JSON if that
 * differs. `afterText` is the desired resource's declarationJson, which the digest reuses.
 */
function sameDeclaration(a: ResourceState, b: ResourceState, afterText: string): boolean {
  return declarationJson(a) === afterText || canonicalJson(declaration(a)) === canonicalJson(declaration(b));
}

export function diffSnapshots(
  prior: StateSnapshot | null,
  desired: StateSnapshot,
  blobs: BlobLookup,
  opts: DiffOptions = {},
): Plan {
  const priorRes = prior?.resources ?? {};
  let changes: ResourceChange[] = [];
  // each desired declaration is serialized once, for the comparison and for the digest
  const digest = new DigestBuilder();

  for (const [address, after] of Object.entries(desired.resources)) {
    const afterText = declarationJson(after);
    digest.add(address, afterText);
    const before = priorRes[address];
    if (!before) {
      changes.push(make(address, after, 'create', 'new in configuration', [], null, after));
      continue;
    }
    if (sameDeclaration(before, after, afterText)) continue;
    changes.push(compareResource(address, before, after, blobs, opts.replaceOn));
  }
  for (const [address, before] of Object.entries(priorRes)) {
    if (!desired.resources[address]) {
      changes.push(make(address, before, 'delete', 'removed from configuration', [], before, null));
    }
  }
  for (const c of changes) {
    if (c.action === 'create' && c.after?.prompt_sha256) c.prompt = promptChange(null, c.after, blobs);
    if (c.action === 'delete' && c.before?.prompt_sha256) c.prompt = promptChange(c.before, null, blobs);
  }
  if (opts.refreshed?.length) changes = mergeRefresh(changes, opts.refreshed, prior, desired);
  changes.sort(byDisplayOrder);
  const configDigest = digest.digest() ?? snapshotDigest(desired);

  const desiredBlobs: Record<string, string> = {};
  for (const r of Object.values(desired.resources)) {
    const sha = r.prompt_sha256;
    if (!sha || desiredBlobs[sha] !== undefined) continue;
    const text = opts.desiredBlobs?.[sha] ?? blobs(sha);
    if (text !== null && text !== undefined) desiredBlobs[sha] = text;
  }

  const topology = analyzeTopology(prior, desired);
  if (opts.deliveryCounts && changes.some((c) => c.action === 'delete' && (c.kind === 'route' || c.kind === 'actor'))) {
    const impact = inFlightImpact(prior, desired, opts.deliveryCounts);
    if (impact.draining || impact.cancelled) topology.in_flight = impact;
  }
  const reapply = changes.length && opts.versions?.length ? reapplyWarning(opts.versions, opts.serial ?? 0, configDigest) : null;

  const plan: Plan = {
    format_version: PLAN_FORMAT_VERSION,
    kind: 'orgloop-plan',
    created_at: (opts.now ?? new Date()).toISOString(),
    lineage: opts.lineage ?? '',
    serial: opts.serial ?? 0,
    config_digest: configDigest,
    origin: opts.origin ?? { type: 'project' },
    summary: summarize(changes, Object.keys(desired.resources).length - changes.filter((c) => c.action !== 'delete').length),
    changes,
    topology,
    // the re-apply warning first, so it is seen
    warnings: [...(reapply ? [reapply.message] : []), ...(opts.warnings ?? [])],
    desired,
    blobs: desiredBlobs,
  };
  if (opts.moves?.length) plan.moves = opts.moves.map((m) => ({ ...m, pending: pendingOfMove(m.from, opts.applied ?? null, opts.deliveryCounts ?? []) }));
  if (opts.targets && (opts.targets.target.length || opts.targets.exclude.length)) plan.targets = opts.targets;
  if (opts.refreshed?.length) plan.refreshed = opts.refreshed;
  if (opts.traffic) attachTraffic(plan, opts.traffic);
  return plan;
}

/** Puts a plan's traffic (traffic.ts) on it, and each route's counts on that route's change. */
export function attachTraffic(plan: Plan, traffic: PlanTraffic): void {
  plan.traffic = traffic;
  const byRoute = new Map(traffic.routes.map((r) => [r.route, r]));
  for (const c of plan.changes) {
    const t = byRoute.get(c.address);
    if (t) c.traffic = { window: traffic.window, matched_before: t.matched_before, matched_after: t.matched_after };
  }
}

/** Counts per action; `unchanged` is the number of desired objects with no change. */
export function summarize(changes: ResourceChange[], unchanged: number): PlanSummary {
  const s: PlanSummary = { add: 0, change: 0, destroy: 0, replace: 0, unchanged };
  for (const c of changes) {
    if (c.action === 'create') s.add++;
    else if (c.action === 'update') s.change++;
    else if (c.action === 'delete') s.destroy++;
    else {
      s.replace++;
      s.add++;
      s.destroy++;
    }
  }
  return s;
}

const ACTIONS: Record<ResourceChange['action'], string[]> = {
  create: ['create'],
  update: ['update'],
  delete: ['delete'],
  replace: ['delete', 'create'],
};

function make(
  address: Address,
  r: ResourceState,
  action: ResourceChange['action'],
  reason: string,
  fields: FieldChange[],
  before: ResourceState | null,
  after: ResourceState | null,
): ResourceChange {
  return { address, kind: r.kind, name: r.name, provider: r.provider, action, actions: ACTIONS[action], reason, fields, before, after };
}

function compareResource(
  address: Address,
  before: ResourceState,
  after: ResourceState,
  blobs: BlobLookup,
  replaceOn?: ReplaceOnLookup,
): ResourceChange {
  const fields = attributeChanges(before.attributes, after.attributes);
  const forcing = (replaceOn?.(after.kind, after.provider) ?? []).map((p) => ['config', ...p.split('.')].join('.'));
  for (const f of fields) {
    const raw = f.path;
    if (forcing.some((p) => raw === p || raw.startsWith(p + '.') || raw.startsWith(p + '['))) f.forces_replace = true;
  }
  const prompt = (before.prompt_sha256 ?? null) !== (after.prompt_sha256 ?? null) ? promptChange(before, after, blobs) : undefined;

  let action: ResourceChange['action'] = 'update';
  let reason: string;
  if (before.provider !== after.provider) {
    action = 'replace';
    fields.unshift({ path: 'provider', before: before.provider, after: after.provider, forces_replace: true });
    reason = `provider changed from ${before.provider} to ${after.provider}, which forces replacement`;
  } else if (fields.some((f) => f.forces_replace)) {
    action = 'replace';
    const which = fields.filter((f) => f.forces_replace).map((f) => f.path);
    reason = `${which.join(', ')} ${which.length === 1 ? 'forces' : 'force'} replacement`;
  } else {
    const parts = fields.map((f) => (f.sensitive_value_changed ? `${f.path} (sensitive value)` : f.path));
    if (prompt) parts.push('prompt text');
    if (!parts.length && canonicalJson(before.depends_on) !== canonicalJson(after.depends_on)) parts.push('dependencies');
    reason = `changed: ${summarizeList(parts)}`;
  }
  const change = make(address, after, action, reason, fields, before, after);
  if (prompt) change.prompt = prompt;
  return change;
}

function summarizeList(parts: string[]): string {
  return parts.length > 4 ? `${parts.slice(0, 4).join(', ')} and ${parts.length - 4} more` : parts.join(', ');
}

/**
 * Field-level changes between two attribute objects, via json-diff. Arrays are reported whole
 * (a list is one value to a reader), and a secret is one field: its template may change, or
 * only its hash (the value) — then the change is `sensitive_value_changed` (and
 * `sensitive_other_key` when the two hashes were made with different state keys).
 */
export function attributeChanges(before: Record<string, unknown>, after: Record<string, unknown>): FieldChange[] {
  const d = jsonDiff().diff(before, after);
  const raw: Array<{ path: Path; kind: 'change' | 'add' | 'delete' }> = [];
  changedPaths(d, [], raw);

  const out: FieldChange[] = [];
  const seen = new Set<string>();
  for (const { path, kind } of raw) {
    const s = path.indexOf('$secret');
    const at = s >= 0 ? path.slice(0, s) : path;
    const key = JSON.stringify(at);
    if (seen.has(key)) continue;
    seen.add(key);
    const b = kind === 'add' ? undefined : getAt(before, at);
    const a = kind === 'delete' ? undefined : getAt(after, at);
    const f: FieldChange = { path: formatPath(at) };
    if (b !== undefined) f.before = b;
    if (a !== undefined) f.after = a;
    if (isStoredSecret(b) || isStoredSecret(a) || containsSecret(b) || containsSecret(a)) {
      f.sensitive = true;
      if (isStoredSecret(b) && isStoredSecret(a) && b.$secret.template === a.$secret.template) {
        f.sensitive_value_changed = true;
        if (hashKeyId(b.$secret.hash) !== hashKeyId(a.$secret.hash)) f.sensitive_other_key = true;
      }
    }
    out.push(f);
  }
  return out;
}

/** The paths json-diff output `d` marks as changed, added or deleted. */
function changedPaths(d: unknown, path: Path, out: Array<{ path: Path; kind: 'change' | 'add' | 'delete' }>): void {
  if (d === undefined) return;
  if (Array.isArray(d)) {
    out.push({ path, kind: 'change' });
    return;
  }
  if (!d || typeof d !== 'object') {
    out.push({ path, kind: 'change' });
    return;
  }
  const obj = d as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 2 && '__old' in obj && '__new' in obj) {
    out.push({ path, kind: 'change' });
    return;
  }
  for (const k of keys) {
    if (k.endsWith('__added')) out.push({ path: [...path, k.slice(0, -7)], kind: 'add' });
    else if (k.endsWith('__deleted')) out.push({ path: [...path, k.slice(0, -9)], kind: 'delete' });
    else changedPaths(obj[k], [...path, k], out);
  }
}

function promptFile(r: ResourceState | null): string | null {
  const w = (r?.attributes as { with?: { prompt_file?: string } } | undefined)?.with;
  return w?.prompt_file ?? null;
}

function promptChange(before: ResourceState | null, after: ResourceState | null, blobs: BlobLookup): PromptChange {
  const bSha = before?.prompt_sha256 ?? null;
  const aSha = after?.prompt_sha256 ?? null;
  const file = promptFile(after) ?? promptFile(before);
  const bText = bSha ? blobs(bSha) : '';
  const aText = aSha ? blobs(aSha) : '';
  return {
    file,
    before_sha256: bSha,
    after_sha256: aSha,
    diff: bText === null || aText === null ? null : unifiedTextDiff(bText, aText, file ?? 'prompt'),
  };
}

export function unifiedTextDiff(before: string, after: string, name: string): string {
  const lines = difflib().unifiedDiff(splitLines(before), splitLines(after), {
    fromfile: before ? `a/${name}` : '/dev/null',
    tofile: after ? `b/${name}` : '/dev/null',
    lineterm: '',
    n: 3,
  });
  return lines.join('\n');
}

function splitLines(text: string): string[] {
  if (!text) return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
