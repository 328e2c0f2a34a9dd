// A project's executor run in the background: `orgloop start --daemon` and `orgloop stop`.
// Everything about one daemon lives beside its project, in `.orgloop/` (the pid file and the log),
// so several projects on one machine never share a file; each needs its own port (`--port`,
// ORGLOOP_PORT or `defaults.port`). A named workspace's daemon keeps its files in
// `.orgloop/workspaces/<name>/`, so each workspace of a project runs its own executor.
//
// The pid file holds JSON (pid, when, the log, the command line) and is written by the parent once
// the child is up; the child removes it when it exits cleanly. A pid file whose process is gone
// (kill -9, reboot) is stale: it is reported as such and replaced.

import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rotateLog, rotateOptions } from './log-rotate.js';
import { DEFAULT_WORKSPACE, workspaceDir } from '../workspaces/select.js';

export interface DaemonPaths {
  dir: string;
  pidFile: string;
  logFile: string;
}

export interface DaemonRecord {
  pid: number;
  started_at: string;
  log: string;
  url?: string;
  argv: string[];
}

export type DaemonState = { running: true; record: DaemonRecord } | { running: false; stale?: DaemonRecord };

/** `orgloop.pid` and `orgloop.log` in `.orgloop/` beside the project file (a named workspace: `.orgloop/workspaces/<name>/`). */
export function daemonPaths(configFile: string, workspace: string = DEFAULT_WORKSPACE): DaemonPaths {
  const dir = workspaceDir(configFile, workspace);
  return { dir, pidFile: join(dir, 'orgloop.pid'), logFile: join(dir, 'orgloop.log') };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // An exited child nobody has reaped yet (a container whose pid 1 does not reap) still answers
  // signal 0: on Linux, read its state.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

export function readDaemon(paths: DaemonPaths): DaemonState {
  let record: DaemonRecord;
  try {
    record = JSON.parse(readFileSync(paths.pidFile, 'utf8'));
  } catch {
    return { running: false };
  }
  if (!Number.isInteger(record?.pid) || record.pid <= 0) return { running: false };
  return isAlive(record.pid) ? { running: true, record } : { running: false, stale: record };
}

/** Removes the pid file if it still names `pid` (the child's own clean exit). */
export function releasePidFile(pidFile: string, pid: number): void {
  try {
    if (JSON.parse(readFileSync(pidFile, 'utf8')).pid === pid) rmSync(pidFile, { force: true });
  } catch {
    // gone already, or not ours
  }
}

export interface SpawnOptions {
  paths: DaemonPaths;
  /** node and the CLI script, then the arguments of the foreground command */
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** how long to wait for "listening on" */
  readyTimeoutMs: number;
}

export type SpawnResult = { ok: true; record: DaemonRecord } | { ok: false; error: string; logTail: string };

/**
 * Starts the foreground command detached, its output appended to the log, and waits until it
 * says it is listening (or exits, or the time runs out: then it is stopped again).
 */
export async function spawnDaemon(o: SpawnOptions): Promise<SpawnResult> {
  mkdirSync(o.paths.dir, { recursive: true });
  // rotate now rather than under the child while it is starting (its readiness is read from the log)
  rotateLog(o.paths.logFile, rotateOptions(o.env));
  const offset = existsSync(o.paths.logFile) ? statSync(o.paths.logFile).size : 0;
  const out = openSync(o.paths.logFile, 'a');
  const started_at = new Date().toISOString();
  writeFileSync(o.paths.logFile, `\n=== ${started_at} orgloop start --daemon: ${o.argv.slice(2).join(' ')}\n`, { flag: 'a' });
  const child = spawn(o.argv[0]!, o.argv.slice(1), {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...o.env, ORGLOOP_PID_FILE: o.paths.pidFile, ORGLOOP_LOG_FILE: o.paths.logFile, NO_COLOR: '1' },
    cwd: process.cwd(),
  });
  closeSync(out);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code ?? 1)));
  const pid = child.pid!;
  const deadline = Date.now() + o.readyTimeoutMs;
  let exitCode: number | null = null;
  void exited.then((c) => (exitCode = c));
  while (Date.now() < deadline) {
    const text = readLogFrom(o.paths.logFile, offset);
    const m = /listening on (http:\/\/\S+)/.exec(text);
    if (m) {
      const record: DaemonRecord = { pid, started_at, log: o.paths.logFile, url: m[1], argv: o.argv };
      writeFileSync(o.paths.pidFile, JSON.stringify(record) + '\n', { mode: 0o600 });
      child.unref();
      return { ok: true, record };
    }
    if (exitCode !== null) return { ok: false, error: `the executor exited (code ${exitCode}) before it was ready`, logTail: tail(readLogFrom(o.paths.logFile, offset)) };
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  return { ok: false, error: `the executor was not listening after ${Math.round(o.readyTimeoutMs / 1000)}s; stopped it`, logTail: tail(readLogFrom(o.paths.logFile, offset)) };
}

function readLogFrom(file: string, offset: number): string {
  try {
    const all = readFileSync(file);
    // rotated since (copied away and truncated): what is there is all new
    return all.subarray(all.length < offset ? 0 : offset).toString('utf8');
  } catch {
    return '';
  }
}

function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export type StopResult = { stopped: 'gracefully' | 'forced'; pid: number } | { stopped: 'not-running'; stale?: DaemonRecord };

/** SIGTERM (the executor drains and releases its leases), then SIGKILL after `timeoutMs`. */
export async function stopDaemon(paths: DaemonPaths, timeoutMs: number): Promise<StopResult> {
  const state = readDaemon(paths);
  if (!state.running) {
    if (state.stale) rmSync(paths.pidFile, { force: true });
    return { stopped: 'not-running', stale: state.stale };
  }
  const { pid } = state.record;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      rmSync(paths.pidFile, { force: true });
      return { stopped: 'gracefully', pid };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // exited between the check and the kill
  }
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  rmSync(paths.pidFile, { force: true });
  return { stopped: 'forced', pid };
}
