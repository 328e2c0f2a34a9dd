// `orgloop doctor`: for every declared source, actor, transform and logger whose provider can
// check itself, ask it (credentials, reachability: GitHub /user, Linear viewer, OpenClaw health).
// Checks run concurrently, each with a time limit, and never throw: a failure is a row.

import type { LoadedProject } from '../graph/types.js';
import type { Provider } from '../../providers/types.js';
import { providerContext } from '../provider-context.js';

export interface DoctorRow {
  address: string;
  provider: string;
  /** warn: worth doing something about, but not a failure (nothing applied yet, no executor running) */
  status: 'ok' | 'fail' | 'skip' | 'warn';
  detail: string;
}

export interface DoctorOptions {
  env: (name: string) => string | undefined;
  getProvider: (kind: Provider['kind'], name: string) => Provider | undefined;
  timeoutMs?: number;
  /** called as each check finishes */
  onDone?: (row: DoctorRow) => void;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)}s`)), ms);
    }),
  ]);
}

export async function runDoctor(project: LoadedProject, opts: DoctorOptions): Promise<DoctorRow[]> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const jobs = project.resources
    .filter((r) => r.kind !== 'route')
    .map(async (r): Promise<DoctorRow> => {
      const base = { address: r.address, provider: r.provider };
      const provider = opts.getProvider(r.kind as Provider['kind'], r.provider);
      if (!provider?.check) return { ...base, status: 'skip', detail: 'nothing to check (no credentials or remote service)' };
      const controller = new AbortController();
      const ctx = providerContext({
        name: r.name,
        config: (r.spec as { config?: Record<string, unknown> }).config,
        projectDir: project.dir,
        env: opts.env,
        signal: controller.signal,
      });
      try {
        const res = await withTimeout(provider.check(ctx), timeoutMs, `${r.address} check`);
        return { ...base, status: res.skipped ? 'skip' : res.ok ? 'ok' : 'fail', detail: res.detail };
      } catch (err) {
        controller.abort();
        return { ...base, status: 'fail', detail: (err as Error).message };
      }
    });
  // each row as it finishes, for progress on a terminal
  return Promise.all(jobs.map((j) => j.then((row) => (opts.onDone?.(row), row))));
}
