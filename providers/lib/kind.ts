// kind (Kubernetes in Docker) cluster actions for the docker actor, as OrgLoop's docker connector
// offers them: `cluster.start` (kind create cluster) and `cluster.shutdown` (kind delete cluster).
//
// The kind binary runs as an argv array in its own process group (providers/lib/process.ts): no
// shell sees a cluster name or config path, a timeout kills kind and what it started, and names
// are checked against kind's own rule before anything runs. At-least-once delivery means a
// retried start may find its cluster already there: `kind get clusters` is asked first, and an
// existing cluster is success. `kind delete cluster` of a missing cluster already succeeds.

import { isAbsolute, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { runProcess } from './process.js';

/** kind cluster names are DNS labels (they become container and context names). */
export const KIND_CLUSTER_NAME = /^[a-z0-9]([a-z0-9.-]{0,48}[a-z0-9])?$/;
export const CLUSTER_ACTIONS = ['cluster.start', 'cluster.shutdown'] as const;
const DEFAULT_TIMEOUT_MS = 300_000;

export interface KindOptions {
  /** the kind binary (default `kind` on PATH) */
  bin: string;
  cwd: string;
  timeoutMs: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export type KindOutcome = { ok: true; detail: string } | { ok: false; error: string; retryable: boolean };

async function kind(args: string[], o: KindOptions): Promise<{ ok: boolean; stdout: string; error?: string; missing?: boolean; timedOut?: boolean }> {
  const r = await runProcess({ command: [o.bin, ...args], cwd: o.cwd, env: o.env ?? process.env, timeoutMs: o.timeoutMs, signal: o.signal, captureStdout: true, maxStdout: 1024 * 1024 });
  if (r.spawnError) return { ok: false, stdout: '', missing: /ENOENT/.test(r.spawnError), error: r.spawnError };
  if (r.timedOut) return { ok: false, stdout: r.stdout, timedOut: true, error: `timed out after ${o.timeoutMs} ms` };
  if (r.exitCode !== 0) return { ok: false, stdout: r.stdout, error: (r.stderrTail || r.outputTail).trim().split('\n').slice(-3).join(' ').slice(0, 400) || `exit ${r.exitCode}` };
  return { ok: true, stdout: r.stdout };
}

const notInstalled = (bin: string): KindOutcome => ({ ok: false, retryable: false, error: `kind is not installed (${bin} is not on PATH; see https://kind.sigs.k8s.io)` });


/** Runs one cluster action. `configPath` is relative to the project directory. */
export async function clusterAction(action: string, cluster: string, configPath: string | undefined, o: KindOptions): Promise<KindOutcome> {
  if (!KIND_CLUSTER_NAME.test(cluster)) return { ok: false, retryable: false, error: `kind: "${cluster}" is not a cluster name (lower-case letters, digits, . and -)` };
  if (action === 'cluster.shutdown') {
    const r = await kind(['delete', 'cluster', '--name', cluster], o);
    if (r.missing) return notInstalled(o.bin);
    return r.ok ? { ok: true, detail: `deleted kind cluster ${cluster}` } : { ok: false, retryable: true, error: `kind delete cluster ${cluster} failed: ${r.error}` };
  }
  if (action !== 'cluster.start') return { ok: false, retryable: false, error: `kind: unknown action ${action}` };
  const list = await kind(['get', 'clusters'], o);
  if (list.missing) return notInstalled(o.bin);
  if (!list.ok) return { ok: false, retryable: true, error: `kind get clusters failed: ${list.error}` };
  if (list.stdout.split('\n').some((l) => l.trim() === cluster)) return { ok: true, detail: `kind cluster ${cluster} already exists` };
  const args = ['create', 'cluster', '--name', cluster];
  if (configPath) {
    const path = isAbsolute(configPath) ? configPath : resolve(o.cwd, configPath);
    if (!existsSync(path)) return { ok: false, retryable: false, error: `kind: cluster config ${configPath} does not exist` };
    args.push('--config', path);
  }
  const r = await kind(args, o);
  return r.ok ? { ok: true, detail: `created kind cluster ${cluster}` } : { ok: false, retryable: true, error: `kind create cluster ${cluster} failed: ${r.error}` };
}

/** `kind version` for doctor. */
export async function kindVersion(o: KindOptions): Promise<{ ok: boolean; detail: string }> {
  const r = await kind(['version'], { ...o, timeoutMs: Math.min(o.timeoutMs, 10_000) });
  if (r.missing) return { ok: false, detail: `kind is not installed (${o.bin} is not on PATH; see https://kind.sigs.k8s.io)` };
  return r.ok ? { ok: true, detail: r.stdout.trim() } : { ok: false, detail: `kind version failed: ${r.error}` };
}

export function kindOptions(config: Record<string, unknown>, projectDir: string, timeoutMs?: number, signal?: AbortSignal): KindOptions {
  return {
    bin: typeof config.kind_path === 'string' && config.kind_path ? config.kind_path : 'kind',
    cwd: projectDir,
    timeoutMs: timeoutMs ?? (typeof config.timeout === 'number' ? config.timeout : DEFAULT_TIMEOUT_MS),
    signal,
  };
}
