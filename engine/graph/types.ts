// The desired graph (what the YAML declares) and the stored snapshot (what was applied).
// Both are plain JSON values so they can be diffed, saved in plan files and stored; the stored
// snapshot's shapes live in state/snapshot.ts (the store persists them) and are re-exported here.

import type { Address, ResourceKind } from '../../state/snapshot.js';

export type { Address, ResourceKind };

export interface Pos {
  file: string;
  line: number;
  col: number;
}

export interface SourceSpec {
  id: string;
  connector: string; // normalized provider name ("github", not "@orgloop/connector-github")
  description?: string;
  config: Record<string, unknown>;
  poll?: { interval: string };
}

export interface ActorSpec {
  id: string;
  connector: string;
  description?: string;
  config: Record<string, unknown>;
}

export interface TransformSpec {
  name: string;
  type: string; // normalized provider name ("filter", never "package")
  description?: string;
  config: Record<string, unknown>;
}

export interface LoggerSpec {
  name: string;
  type: string;
  description?: string;
  config: Record<string, unknown>;
}

export interface RouteSpec {
  name: string;
  description?: string;
  when: { source: string; events: string[]; filter?: Record<string, unknown> };
  /** a name, or `{ ref, on_error?, config? }` when the route overrides the transform's settings */
  transforms: Array<string | { ref: string; on_error?: 'pass' | 'drop' | 'halt'; config?: Record<string, unknown> }>;
  then: { actor: string; config?: Record<string, unknown> };
  with?: { prompt_file?: string };
  delivery?: { max_attempts?: number; timeout?: string; backoff?: string; retry?: string[] };
  max_hops?: number;
}

export type Spec = SourceSpec | ActorSpec | TransformSpec | LoggerSpec | RouteSpec;

/** One declared object after loading: config values resolved, templates remembered. */
export interface DesiredResource {
  address: Address;
  kind: ResourceKind;
  name: string;
  /** provider name; for routes the literal "route" */
  provider: string;
  spec: Spec;
  /**
   * Values written with ${VAR}: dotted path inside `spec` -> the template text as written.
   * `spec` holds the resolved value; for the sensitive ones (engine/secrets) state stores only
   * the template and a keyed hash.
   */
  templates: Record<string, string>;
  dependsOn: Address[];
  pos: Pos;
  /** routes with with.prompt_file: the prompt's content hash (text is in LoadedProject.prompts) */
  prompt?: { file: string; sha256: string };
}

export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  message: string;
  severity: 'error' | 'warning';
}

export interface LoadedProject {
  name: string;
  /** absolute directory of the project file */
  dir: string;
  /** absolute path of the entry file */
  file: string;
  files: string[];
  defaults: Record<string, unknown>;
  resources: DesiredResource[];
  /** sha256 -> prompt text */
  prompts: Record<string, string>;
  warnings: Diagnostic[];
  /** `moved:` renames (source, route or actor addresses), checked against the declared resources */
  moved?: Array<{ from: Address; to: Address }>;
}

// ---- applied state ----

// The stored snapshot's shapes belong to the store that persists them.
export type { StateSnapshot, ResourceState, StoredSecret } from '../../state/snapshot.js';
