// Where a project's state lives and how to open it. Every command that touches state goes
// through here so `--state` (cmd/util.ts folds ORGLOOP_STATE into it), the default location and
// the named workspace (engine/workspaces/: `orgloop workspace`) mean the same everywhere.
// ("Workspace" in this file's names predates named workspaces: it means the project's state.)

import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Store } from '../state/store.js';
import { UserError } from './errors.js';
import { DEFAULT_WORKSPACE, projectStateDir } from './workspaces/select.js';

export interface WorkspaceOpts {
  /** project file as given on the command line (-c) */
  config: string;
  /** --state value (or ORGLOOP_STATE, read by cmd/), if any */
  state?: string;
  /** the named workspace (cmd/util.ts resolves it); absent means `default` */
  workspace?: string;
}

function isUrl(location: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(location);
}

/** --state, else `.orgloop/state.db` beside the project file: the `default` workspace's state. */
export function baseStatePath(g: WorkspaceOpts): string {
  const explicit = g.state;
  if (explicit) return isUrl(explicit) ? explicit : resolve(explicit);
  return join(projectStateDir(g.config), 'state.db');
}

/**
 * The Postgres schema of a workspace other than `default`: `<base>_ws_<name>`, the base being the
 * URL's `?schema=` or `orgloop` (default's tables stay where they were, in the URL's schema or public).
 */
export function workspaceSchema(baseSchema: string | null, workspace: string): string {
  return `${baseSchema ?? 'orgloop'}_ws_${workspace}`;
}

/**
 * The state location of a workspace. `default` is the base location itself, so nothing existing
 * moves; another workspace's SQLite file is `<base dir>/workspaces/<name>/<base file name>`
 * (`.orgloop/workspaces/staging/state.db`), its Postgres state a schema of its own.
 */
export function statePath(g: WorkspaceOpts): string {
  const base = baseStatePath(g);
  const ws = g.workspace ?? DEFAULT_WORKSPACE;
  if (ws === DEFAULT_WORKSPACE) return base;
  if (/^postgres(ql)?:\/\//i.test(base)) {
    const u = new URL(base);
    u.searchParams.set('schema', workspaceSchema(u.searchParams.get('schema'), ws));
    return u.toString();
  }
  if (isUrl(base)) return base;
  return join(dirname(base), 'workspaces', ws, basename(base));
}

/** A workspace other than `default` exists once `orgloop workspace new` has created its state. */
export async function workspaceExists(g: WorkspaceOpts): Promise<boolean> {
  const ws = g.workspace ?? DEFAULT_WORKSPACE;
  if (ws === DEFAULT_WORKSPACE) return true;
  const location = statePath(g);
  if (/^postgres(ql)?:\/\//i.test(location)) {
    const { stateSchemaExists } = await import('../state/postgres/schemas.js');
    return stateSchemaExists(location);
  }
  return existsSync(location);
}

async function requireWorkspace(g: WorkspaceOpts): Promise<void> {
  if (await workspaceExists(g)) return;
  throw new UserError(`workspace "${g.workspace}" does not exist: \`orgloop workspace new ${g.workspace}\` creates it (\`orgloop workspace list\` shows those there are)`);
}

/** Opens (creating and migrating if needed) the store for this workspace. Loaded lazily: better-sqlite3 is heavy. */
export async function openWorkspaceStore(g: WorkspaceOpts): Promise<Store> {
  // only `workspace new` creates a named workspace: a typo in --workspace must not make a new state
  await requireWorkspace(g);
  const { openStore } = await import('../state/open.js');
  return openStore(statePath(g));
}

export interface ReadableStore {
  store: Store;
  /** the SQLite file that does not exist yet (an empty in-memory store stands in), or null */
  missing: string | null;
}

/**
 * For commands that only read (plan, status, history, ...): a SQLite state file that does not
 * exist is not created; an empty in-memory store answers instead and `missing` names the file.
 */
export async function openWorkspaceStoreToRead(g: WorkspaceOpts): Promise<ReadableStore> {
  await requireWorkspace(g);
  const location = statePath(g);
  if (!isUrl(location) && !existsSync(location)) {
    const { openStore } = await import('../state/open.js');
    const store = await openStore(':memory:');
    // Messages ("nothing has been applied yet in ...") name the file the user asked about.
    Object.defineProperty(store, 'location', { value: location });
    return { store, missing: location };
  }
  return { store: await openWorkspaceStore(g), missing: null };
}

/** Opens the workspace store, runs fn, and always closes the store. */
export async function withWorkspaceStore<T>(g: WorkspaceOpts, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openWorkspaceStore(g);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
