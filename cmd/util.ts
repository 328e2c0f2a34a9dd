// Shared CLI plumbing: global options, output, and turning errors into exit codes.

import type { Command } from 'commander';
import { ConfigError, EXIT, UserError, formatDiagnostic } from '../engine/errors.js';
import { colorFor } from './color.js';
import { parseDuration } from '../providers/lib/duration.js';
import { resolveWorkspace, type WorkspaceSource } from '../engine/workspaces/select.js';

export interface GlobalOpts {
  config: string;
  state?: string;
  /** the named workspace: --workspace, ORGLOOP_WORKSPACE, `orgloop workspace select`, or default */
  workspace: string;
  workspaceFrom: WorkspaceSource;
  color: boolean;
  /** --no-color was given */
  noColor: boolean;
}

// as the user set it: globals() sets it to the resolved workspace for what this process starts
const userWorkspaceEnv = process.env.ORGLOOP_WORKSPACE;

/** Global options live on the root program; subcommands read them from there. */
export function globals(cmd: Command): GlobalOpts {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  const o = root.opts();
  const config = o.config ?? process.env.ORGLOOP_CONFIG ?? 'orgloop.yaml';
  const ws = resolveWorkspace({ flag: o.workspace, env: { ORGLOOP_WORKSPACE: userWorkspaceEnv }, configFile: config });
  // `${ORGLOOP_WORKSPACE}` in the project file, `.env.<workspace>`, actors and a --daemon child all
  // see the workspace this command acts on
  process.env.ORGLOOP_WORKSPACE = ws.name;
  return {
    config,
    state: o.state ?? process.env.ORGLOOP_STATE,
    workspace: ws.name,
    workspaceFrom: ws.from,
    color: colorFor(process.stdout, o.color === false),
    noColor: o.color === false,
  };
}

/**
 * A duration flag (`--lock-timeout 30s`, `--timeout 1500ms`) in milliseconds, in the grammar config
 * uses (providers/lib/duration.ts). Zero only where it means something (`--lock-timeout 0s`:
 * do not wait).
 */
export function durationFlag(flag: string, text: string, opts: { zero?: boolean } = {}): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    const hint = /^\s*\d+(?:\.\d+)?\s*$/.test(text) ? `; add a unit, e.g. ${text.trim()}s` : '';
    throw new UserError(`${flag} must be a duration like 30s, 2m or 1500ms (got "${text}"${hint})`);
  }
  if (ms === 0 && !opts.zero) throw new UserError(`${flag} must be greater than zero (got "${text}")`);
  return ms;
}

/** `Workspace: staging` for text output, nothing in the default workspace (output stays as it was). */
export function workspaceLine(g: { workspace: string }): string {
  return g.workspace === 'default' ? '' : `Workspace: ${g.workspace}\n`;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Wraps a command action: user errors print cleanly, unexpected ones too (stack only with ORGLOOP_DEBUG). */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void> | number | void) {
  return async (...args: A): Promise<void> => {
    try {
      const code = await fn(...args);
      process.exitCode = typeof code === 'number' ? code : EXIT.OK;
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}

export function reportError(err: unknown): number {
  const debug = !!process.env.ORGLOOP_DEBUG;
  if (err instanceof ConfigError) {
    for (const d of err.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
    const n = err.diagnostics.filter((d) => d.severity !== 'warning').length;
    process.stderr.write(`${n} error${n === 1 ? '' : 's'} found.\n`);
    if (debug) process.stderr.write(String(err.stack) + '\n');
    return err.exitCode;
  }
  if (err instanceof UserError) {
    process.stderr.write(`Error: ${err.message}\n`);
    if (debug) process.stderr.write(String(err.stack) + '\n');
    return err.exitCode;
  }
  const e = err as Error;
  process.stderr.write(`Error: ${e?.message ?? String(err)}\n`);
  if (debug) process.stderr.write(String(e?.stack) + '\n');
  else process.stderr.write('(set ORGLOOP_DEBUG=1 for details)\n');
  return EXIT.ERROR;
}

/** Asks on the terminal and answers true only for a typed `yes`, as Terraform's prompts do. */
export async function askYes(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question(question)).trim() === 'yes';
  } finally {
    rl.close();
  }
}
