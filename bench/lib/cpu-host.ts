// A process's own CPU budget, as if it ran on a host of its own: a cgroup (v1 `cpu`, or v2 with
// the cpu controller) whose quota is `cores` of a core, whatever else the machine runs. Used by
// pg-share-hosts to measure what a second executor brings when each has its own CPU, on a
// machine where the executors, Postgres and the load generator would otherwise share the cores.
// Needs root and a writable cgroup filesystem; `open` returns null without them.

import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const PERIOD_US = 100_000;

export class CpuHost {
  private constructor(
    private readonly dir: string,
    private readonly v2: boolean,
  ) {}

  /** A new budget of `cores` (0.5: half a core), or null where cgroups cannot be written here. */
  static open(name: string, cores: number): CpuHost | null {
    const quota = Math.round(cores * PERIOD_US);
    for (const [root, v2] of [['/sys/fs/cgroup/cpu', false], ['/sys/fs/cgroup', true], ['/sys/fs/cgroup/unified', true]] as const) {
      const file = v2 ? join(root, 'cgroup.subtree_control') : join(root, 'cpu.cfs_quota_us');
      try {
        if (!existsSync(file)) continue;
        if (v2 && !readFileSync(file, 'utf8').split(/\s+/).includes('cpu')) continue;
        const dir = join(root, `orgloop-bench-${name}-${process.pid}`);
        mkdirSync(dir, { recursive: true });
        if (v2) writeFileSync(join(dir, 'cpu.max'), `${quota} ${PERIOD_US}`);
        else {
          writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
          writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quota));
        }
        return new CpuHost(dir, v2);
      } catch {
        // not root, or this hierarchy is read-only: try the next
      }
    }
    return null;
  }

  /** Moves a process (all its threads, and the children it starts later) into the budget. */
  add(pid: number): void {
    writeFileSync(join(this.dir, 'cgroup.procs'), String(pid));
  }

  /** How long the processes in it were held back by the quota, in ms (throttling makes the budget real). */
  throttledMs(): number {
    const stat = readFileSync(join(this.dir, 'cpu.stat'), 'utf8');
    const m = this.v2 ? /throttled_usec (\d+)/.exec(stat) : /throttled_time (\d+)/.exec(stat);
    return m ? Number(m[1]) / (this.v2 ? 1000 : 1e6) : 0;
  }

  /** Removes the budget once its processes have exited. */
  async close(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      try {
        rmdirSync(this.dir);
        return;
      } catch {
        await sleep(100);
      }
    }
  }
}
