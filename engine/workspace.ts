// Where a project's state lives and how to open it. Every command that touches state goes
// through here so `--state` (cmd/util.ts folds ORGLOOP_STATE into it) and the default location
// mean the same everywhere.

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Store } from '../state/store.js';

export interface WorkspaceOpts {
  /** project file as given on the command line (-c) */
  config: string;
  /** --state value (or ORGLOOP_STATE, read by cmd/), if any */
  state?: string;
}

function isUrl(location: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(location);
}

/** --state, else `.orgloop/state.db` beside the project file. */
export function statePath(g: WorkspaceOpts): string {
  const explicit = g.state;
  if (explicit) return isUrl(explicit) ? explicit : resolve(explicit);
  return resolve(dirname(resolve(g.config)), '.orgloop', 'state.db');
}

/** Opens (creating and migrating if needed) the store for this workspace. Loaded lazily: better-sqlite3 is heavy. */
export async function openWorkspaceStore(g: WorkspaceOpts): Promise<Store> {
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
