// The Plan: a plain JSON value (saved by `plan -out`, printed by `--json`, rendered as text or
// markdown). Documented for users in docs/plan-json.md; bump PLAN_FORMAT_VERSION on breaking changes.

import type { Address, ResourceKind, ResourceState, StateSnapshot } from '../graph/types.js';
import { compareAddresses } from '../graph/address.js';

export const PLAN_FORMAT_VERSION = 1;

export type Action = 'create' | 'update' | 'delete' | 'replace' | 'no-op';

export interface FieldChange {
  /** display path inside the resource, e.g. `config.repo`, `when.filter["provenance.author"]` */
  path: string;
  /** absent = the field did not exist on that side */
  before?: unknown;
  after?: unknown;
  /** a secret: before/after hold the template only, never a value */
  sensitive?: boolean;
  /** true when only the secret's value (its keyed hash) changed */
  sensitive_value_changed?: boolean;
  /**
   * the two hashes were made with different state keys (or the unkeyed form of earlier
   * versions): orgloop cannot tell whether the value changed; applying re-hashes it
   */
  sensitive_other_key?: boolean;
  /** this field is in the provider's replaceOn list */
  forces_replace?: boolean;
}

export interface PromptChange {
  file: string | null;
  before_sha256: string | null;
  after_sha256: string | null;
  /** unified diff of the prompt texts; null when a text was unavailable */
  diff: string | null;
}

export interface ResourceChange {
  address: Address;
  kind: ResourceKind;
  name: string;
  provider: string;
  action: Exclude<Action, 'no-op'>;
  /** Terraform-style action list: ["create"], ["update"], ["delete"], ["delete","create"] */
  actions: string[];
  /** one line: why this object changes */
  reason: string;
  fields: FieldChange[];
  prompt?: PromptChange;
  /** routes: events of the traffic window this route matched before and would match after */
  traffic?: { window: string; matched_before: number; matched_after: number };
  before: ResourceState | null;
  after: ResourceState | null;
}

/** A managed object that refresh found deleted or edited outside orgloop (engine/plan/refresh.ts). */
export interface RefreshedObject {
  address: Address;
  provider: string;
  status: 'deleted' | 'changed';
  /** the provider's own words: what was deleted, or each field that differs */
  differences: string[];
}

export interface TopologyReport {
  /** sources with no route in the result; `new` = they had routes before, or are new */
  unrouted_sources: Array<{ source: Address; new: boolean }>;
  /** (source, event type) pairs routed before and by nothing now (source still exists) */
  unrouted_event_types: Array<{ source: Address; event: string }>;
  actors_without_routes: Array<{ actor: Address; new: boolean }>;
  /** actor.stopped loops (strongly connected actors) that did not exist before */
  new_cycles: Array<{ actors: Address[]; routes: Address[] }>;
  /** number of routes fed by a source, where it changed */
  fanout_changes: Array<{ source: Address; before: number; after: number }>;
  in_flight: InFlight | null;
}

export interface InFlight {
  /** pending/leased/retry deliveries on routes this plan removes (they drain) */
  draining: number;
  /** pending/leased/retry deliveries to actors this plan removes (they will be cancelled) */
  cancelled: number;
  by_route: Array<{ route: Address; count: number; fate: 'drain' | 'cancel' }>;
}

/** What the plan would have done to the events the store received in a window (engine/plan/traffic.ts). */
export interface PlanTraffic {
  /** the window as given (`7d`) and its bounds */
  window: string;
  since: string;
  until: string;
  /** set when no annotation could be made (no runtime data); the lists are then empty */
  skipped?: string;
  /** events of the affected sources in the window */
  events: number;
  /** each added, changed or removed route (also on its change as `traffic`) */
  routes: Array<{
    route: Address;
    /** deliveries the route would have made: matched by its `when`, within max_hops, passed by its evaluated transforms */
    matched_before: number;
    matched_after: number;
    /** when the route has transforms: its matches that an evaluated transform dropped (or failed on) */
    dropped_before?: number;
    dropped_after?: number;
  }>;
  /** each actor whose inbound routes change: deliveries it would have received */
  actors: Array<{ actor: Address; matched_before: number; matched_after: number }>;
  /** events routed before and by nothing after, by source and event type */
  unrouted: Array<{ source: string; event: string; count: number }>;
  /** new actor.stopped loops and how many window events their routes would have matched */
  loops: Array<{ actors: Address[]; routes: Address[]; events: number }>;
  /** every transform on the changed routes: whether it was run over the events, and if not why */
  transforms: Array<{ transform: Address; type: string; evaluated: boolean; reason?: string }>;
  /** the transforms of `transforms` that were not run (they pass every event in the counts) */
  not_evaluated: string[];
}

export interface PlanSummary {
  add: number;
  change: number;
  destroy: number;
  /** replace counts as one add and one destroy, as in Terraform; listed separately too */
  replace: number;
  unchanged: number;
}

export interface Plan {
  format_version: number;
  kind: 'orgloop-plan';
  created_at: string;
  /** state lineage and serial the plan was computed against (serial 0 = empty state) */
  lineage: string;
  serial: number;
  /** sha256 of the canonical desired snapshot's resources */
  config_digest: string;
  /** what the plan was computed from: the project files, or a stored version (rollback) */
  origin: { type: 'project' | 'version' | 'destroy'; file?: string; serial?: number };
  targets?: { target: string[]; exclude: string[] };
  summary: PlanSummary;
  changes: ResourceChange[];
  topology: TopologyReport;
  warnings: string[];
  /**
   * `moved:` renames this plan carries out: the resource keeps its state under the new address
   * and apply re-keys its runtime rows, so `pending` deliveries (pending, leased, retry) go with it.
   */
  moves?: Array<{ from: Address; to: Address; pending: number }>;
  /** objects refresh found deleted or edited outside orgloop; apply recreates or repairs them */
  refreshed?: RefreshedObject[];
  /** the plan run over recent real events (absent with --no-traffic or without a store) */
  traffic?: PlanTraffic;
  /** the full snapshot apply will write (present in plan files) */
  desired: StateSnapshot;
  /** prompt texts referenced by `desired`: sha256 -> text */
  blobs: Record<string, string>;
}

const ORDER: Record<ResourceChange['action'], number> = { delete: 0, replace: 1, update: 2, create: 3 };

/** The order plans list changes in: destroys, replaces, updates, creates; then by address. */
export function byDisplayOrder(a: ResourceChange, b: ResourceChange): number {
  return ORDER[a.action] - ORDER[b.action] || compareAddresses(a.address, b.address);
}

export function hasChanges(plan: Pick<Plan, 'changes'> & { moves?: Plan['moves'] }): boolean {
  return plan.changes.length > 0 || (plan.moves?.length ?? 0) > 0;
}
