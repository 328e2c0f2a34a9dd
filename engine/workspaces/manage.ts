// `orgloop workspace list|show|new|delete`: named workspaces found, made and removed where their
// state lives (a directory per workspace beside the SQLite file, a schema per workspace on
// Postgres), so two machines sharing one Postgres see the same workspaces.

import { existsSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import { baseStatePath, openWorkspaceStore, statePath, workspaceExists, workspaceSchema, type WorkspaceOpts } from '../workspace.js';
import { DEFAULT_WORKSPACE, checkWorkspaceName, isWorkspaceName, workspaceDir } from './select.js';
import { daemonPaths, readDaemon, stopDaemon } from '../daemon/daemon.js';
import { installedServiceFiles } from '../daemon/service.js';
import { EXECUTOR_STALE_MS, snapshotResources } from '../run/inspect.js';

const isPostgres = (location: string) => /^postgres(ql)?:\/\//i.test(location);

/** `default` first, then the others by name. */
export async function listWorkspaces(g: WorkspaceOpts): Promise<string[]> {
  const base = baseStatePath(g);
  let names: string[];
  if (isPostgres(base)) {
    const { stateSchemasWithPrefix } = await import('../../state/postgres/schemas.js');
    const prefix = workspaceSchema(new URL(base).searchParams.get('schema'), '');
    names = (await stateSchemasWithPrefix(base, prefix)).map((s) => s.slice(prefix.length));
  } else {
    const dir = join(dirname(base), 'workspaces');
    let entries: string[] = [];
    try {
      entries = readdirSync(dir);
    } catch {
      // no workspace made yet
    }
    names = entries.filter((n) => existsSync(join(dir, n, basename(base))));
  }
  const valid = names.filter((n) => n !== DEFAULT_WORKSPACE && isWorkspaceName(n)).sort();
  return [DEFAULT_WORKSPACE, ...valid];
}

/** Creates the workspace's (empty, migrated) state; returns where it is. */
export async function createWorkspace(g: WorkspaceOpts, name: string): Promise<string> {
  checkWorkspaceName(name);
  if (name === DEFAULT_WORKSPACE) throw new UserError('workspace "default" already exists (it always does)');
  const w = { ...g, workspace: name };
  if (await workspaceExists(w)) throw new UserError(`workspace "${name}" already exists`);
  const { openStore } = await import('../../state/open.js');
  const store = await openStore(statePath(w));
  const location = store.location;
  await store.close();
  return location;
}

export interface WorkspaceInfo {
  name: string;
  /** the state location (a Postgres URL with its password masked) */
  state: string;
  serial: number;
  resources: number;
  /** executors with a fresh heartbeat in this workspace's state */
  executors: number;
  /** the background executor (`start --daemon`), if one runs */
  daemon: { pid: number; url: string | null } | null;
  /** pid, log and hook spool of this workspace */
  dir: string;
}

export async function describeWorkspace(g: WorkspaceOpts, name: string): Promise<WorkspaceInfo> {
  checkWorkspaceName(name);
  const w = { ...g, workspace: name };
  if (!(await workspaceExists(w))) throw new UserError(`workspace "${name}" does not exist (\`orgloop workspace list\` shows those there are)`);
  const location = statePath(w);
  const d = readDaemon(daemonPaths(g.config, name));
  const daemon = d.running ? { pid: d.record.pid, url: d.record.url ?? null } : null;
  // default's SQLite file appears with its first apply: until then it is an empty workspace
  if (!isPostgres(location) && !existsSync(location)) {
    return { name, state: location, serial: 0, resources: 0, executors: 0, daemon, dir: workspaceDir(g.config, name) };
  }
  const store = await openWorkspaceStore(w);
  try {
    const meta = await store.meta();
    const cur = meta.serial > 0 ? await store.current() : null;
    const now = Date.now();
    const executors = (await store.executors()).filter((e) => now - Date.parse(e.heartbeat_at) < EXECUTOR_STALE_MS).length;
    return { name, state: store.location, serial: meta.serial, resources: cur ? snapshotResources(cur.snapshot).length : 0, executors, daemon, dir: workspaceDir(g.config, name) };
  } finally {
    await store.close();
  }
}

export interface DeleteOptions {
  /** the workspace this command runs in: it cannot be deleted from under itself */
  current: string;
  force: boolean;
  /** how long a background executor gets to stop when forced */
  stopTimeoutMs: number;
}

export interface DeleteResult {
  info: WorkspaceInfo;
  /** the background executor stopped first (--force) */
  stopped: number | null;
  /** service files still installed for the workspace (`service uninstall` removes them) */
  services: string[];
}

/**
 * Deletes a workspace's state and local files. Refused for `default`, for the selected one, and
 * unless forced, for one with applied resources or a live executor (its deliveries, events and
 * history go with it; Terraform likewise refuses a workspace whose state is not empty).
 */
export async function deleteWorkspace(g: WorkspaceOpts, name: string, o: DeleteOptions): Promise<DeleteResult> {
  checkWorkspaceName(name);
  if (name === DEFAULT_WORKSPACE) throw new UserError('the default workspace cannot be deleted');
  if (name === o.current) throw new UserError(`workspace "${name}" is the one selected: select another first (\`orgloop workspace select default\`)`);
  const info = await describeWorkspace(g, name);
  const busy = [
    info.resources ? `${info.resources} applied resource(s) (version ${info.serial}; \`orgloop --workspace ${name} destroy\` removes them)` : '',
    info.daemon ? `an executor running in the background (pid ${info.daemon.pid}; \`orgloop --workspace ${name} stop\`)` : '',
    info.executors && !info.daemon ? `${info.executors} executor(s) with a live heartbeat` : '',
  ].filter(Boolean);
  if (busy.length && !o.force) throw new UserError(`workspace "${name}" has ${busy.join(' and ')}; deleting it loses its state and history. Pass --force to delete it anyway`);
  let stopped: number | null = null;
  if (info.daemon) {
    const r = await stopDaemon(daemonPaths(g.config, name), o.stopTimeoutMs);
    if (r.stopped !== 'not-running') stopped = r.pid;
  }
  const location = statePath({ ...g, workspace: name });
  if (isPostgres(location)) {
    const { dropStateSchema } = await import('../../state/postgres/schemas.js');
    await dropStateSchema(location);
  } else {
    // the directory `new` made for the file: the file with its -wal and -shm
    rmSync(dirname(location), { recursive: true, force: true });
  }
  rmSync(workspaceDir(g.config, name), { recursive: true, force: true });
  return { info, stopped, services: installedServiceFiles(g.config, name, process.env) };
}
