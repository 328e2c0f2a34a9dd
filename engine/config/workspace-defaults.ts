// `workspaces:` in the project file: per named workspace (engine/workspaces/), values that
// replace those of `defaults:` key by key, e.g. the port of each workspace's executor.
//
//   defaults: { port: 4800 }
//   workspaces:
//     staging: { defaults: { port: 4810, poll_interval: 5m } }
//
// A key set under the workspace wins; an array (retry) is replaced, not merged. Messages about a
// value point at the line it came from.

import type { PathSeg } from './source.js';
import type { Diagnostics } from './diagnostics.js';
import type { SourceFile } from './source.js';
import { isWorkspaceName } from '../workspaces/select.js';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export interface EffectiveDefaults {
  values: Record<string, unknown>;
  /** where a key of `values` is written: ['defaults', key] or ['workspaces', name, 'defaults', key] */
  path(key: string): PathSeg[];
}

/** `defaults:` with the selected workspace's `workspaces.<name>.defaults` laid over it. */
export function effectiveDefaults(top: unknown, workspace: string | undefined): EffectiveDefaults {
  const t = isObject(top) ? top : {};
  const base = isObject(t.defaults) ? t.defaults : {};
  const ws = workspace || 'default';
  const entry = isObject(t.workspaces) ? t.workspaces[ws] : undefined;
  const over = isObject(entry) && isObject(entry.defaults) ? entry.defaults : {};
  return {
    values: { ...base, ...over },
    path: (key) => (Object.prototype.hasOwnProperty.call(over, key) ? ['workspaces', ws, 'defaults', key] : ['defaults', key]),
  };
}

/** Workspace names under `workspaces:` follow `orgloop workspace new`'s rule (engine/workspaces/select.ts). */
export function checkWorkspaceNames(src: SourceFile, top: unknown, diags: Diagnostics): void {
  const ws = isObject(top) ? top.workspaces : undefined;
  if (!isObject(ws)) return;
  for (const name of Object.keys(ws)) {
    if (!isWorkspaceName(name)) {
      diags.at(src, ['workspaces', name], `workspaces.${name}: a workspace name is a lower-case letter, then up to 29 lower-case letters, digits or _`, 'error', { key: true });
    }
  }
}
