// Named workspaces (Terraform's `terraform workspace`): one project, several environments, each
// with its own state, executor files and service. This file answers which one a command acts on;
// engine/workspace.ts (the older name) maps that answer to a state location, and manage.ts lists,
// creates and deletes them.
//
// The choice is, first to last: --workspace, ORGLOOP_WORKSPACE, the name `orgloop workspace select`
// wrote to `.orgloop/workspace` beside the project, then `default`. `default` always exists and
// keeps the paths a project had before workspaces (`.orgloop/state.db`, `.orgloop/orgloop.pid`).

import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.js';

export const DEFAULT_WORKSPACE = 'default';

// Lower case, digits and `_`: the name becomes part of a Postgres schema name (no quoting, no
// case folding surprises), a file name and a systemd unit name. 30 characters leave room in
// Postgres' 63 for a base schema.
const NAME = /^[a-z][a-z0-9_]{0,29}$/;

export function isWorkspaceName(name: string): boolean {
  return NAME.test(name);
}

export type WorkspaceSource = 'flag' | 'env' | 'selected' | 'default';

export interface SelectedWorkspace {
  name: string;
  from: WorkspaceSource;
}

/** Throws a UserError saying what a name may be; `where` names where it came from. */
export function checkWorkspaceName(name: string, where = 'workspace name'): string {
  if (isWorkspaceName(name)) return name;
  const hint = /^[A-Za-z][A-Za-z0-9_-]*$/.test(name) ? ` (try "${name.toLowerCase().replace(/-/g, '_').slice(0, 30)}")` : '';
  throw new UserError(`${where} "${name}" is not valid: use a lower-case letter, then up to 29 lower-case letters, digits or _${hint}`);
}

/** `.orgloop/` beside the project file. */
export function projectStateDir(configFile: string): string {
  return join(dirname(resolve(configFile)), '.orgloop');
}

/** `.orgloop/workspace`: the name `orgloop workspace select` chose (Terraform's .terraform/environment). */
export function selectionFile(configFile: string): string {
  return join(projectStateDir(configFile), 'workspace');
}

/**
 * Where one workspace's local files live (pid file, log, hook spool): `.orgloop/` itself for
 * `default`, `.orgloop/workspaces/<name>/` for the others.
 */
export function workspaceDir(configFile: string, workspace: string): string {
  return workspaceDirIn(dirname(resolve(configFile)), workspace);
}

/** workspaceDir for a project directory, as given (a hook knows the directory, not the file). */
export function workspaceDirIn(projectDir: string, workspace: string): string {
  const base = join(projectDir, '.orgloop');
  return workspace === DEFAULT_WORKSPACE ? base : join(base, 'workspaces', workspace);
}

export function readSelection(configFile: string): string | null {
  let text: string;
  try {
    text = readFileSync(selectionFile(configFile), 'utf8');
  } catch {
    return null;
  }
  return text.trim() || null;
}

/** Records the selection; selecting `default` removes the file, so a project looks as before. */
export function writeSelection(configFile: string, workspace: string): void {
  const file = selectionFile(configFile);
  if (workspace === DEFAULT_WORKSPACE) {
    rmSync(file, { force: true });
    return;
  }
  mkdirSync(dirname(file), { recursive: true });
  // written whole then renamed: a command reading it at the same moment sees one name or the other
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, workspace + '\n');
  renameSync(tmp, file);
}

export function resolveWorkspace(i: { flag?: string; env: NodeJS.ProcessEnv; configFile: string }): SelectedWorkspace {
  if (i.flag !== undefined) return { name: checkWorkspaceName(i.flag, '--workspace'), from: 'flag' };
  const env = i.env.ORGLOOP_WORKSPACE;
  if (env) return { name: checkWorkspaceName(env, 'ORGLOOP_WORKSPACE'), from: 'env' };
  const selected = readSelection(i.configFile);
  if (selected) return { name: checkWorkspaceName(selected, `${selectionFile(i.configFile)}: workspace`), from: 'selected' };
  return { name: DEFAULT_WORKSPACE, from: 'default' };
}
