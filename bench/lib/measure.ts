// Shared measuring helpers: run the real CLI as a child process and read its wall time and peak
// RSS; read a running process's peak RSS and CPU time from /proc; percentiles.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/cmd/main.js');
const TIME = '/usr/bin/time';
const RSS_HOOK = pathToFileURL(join(import.meta.dirname, 'rss-hook.mjs')).href;

export interface CliRun {
  code: number | null;
  wallMs: number;
  peakRssMb: number;
  /** user + system CPU time of the process (NaN without GNU time); on a busy machine wall > cpu */
  cpuMs: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node dist/cmd/main.js ...args` to completion. Wall time covers the whole process
 * (Node start included). Peak RSS comes from GNU time (-f %M) when installed, else from a
 * --require hook that writes process.resourceUsage().maxRSS at exit.
 */
export function runCli(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; okCodes?: number[]; cli?: string }): Promise<CliRun> {
  const cli = opts.cli ?? CLI;
  const tmp = mkdtempSync(join(tmpdir(), 'orgloop-bench-rss-'));
  const rssFile = join(tmp, 'rss');
  const useTime = existsSync(TIME);
  const cmd = useTime ? TIME : process.execPath;
  const argv = useTime ? ['-f', '%M %U %S', '-o', rssFile, process.execPath, cli, ...args] : ['--import', RSS_HOOK, cli, ...args];
  const env = { ...process.env, NO_COLOR: '1', ...opts.env, ...(useTime ? {} : { ORGLOOP_BENCH_RSS_FILE: rssFile }) };
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(cmd, argv, { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    p.on('error', rej);
    p.on('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      let kb = NaN;
      let cpuMs = NaN;
      try {
        const [m, u, sys] = readFileSync(rssFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
        kb = m!;
        if (u !== undefined && sys !== undefined) cpuMs = (u + sys) * 1000;
      } catch {
        /* reported as NaN below */
      }
      rmSync(tmp, { recursive: true, force: true });
      const ok = opts.okCodes ?? [0];
      if (!ok.includes(code ?? -1)) {
        rej(new Error(`orgloop ${args.join(' ')} exited ${code}:\n${stderr.slice(0, 3000)}${stdout.slice(0, 1000)}`));
        return;
      }
      res({ code, wallMs, peakRssMb: kb / 1024, cpuMs, stdout, stderr });
    });
  });
}

/** Peak resident set (VmHWM) and current RSS of a live process, in MB. */
export function procMemory(pid: number): { peakMb: number; rssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}

const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** User + system CPU time a process (or one of its threads) has used so far, in ms. */
export function procCpuMs(pid: number, tid?: number): number {
  // with tid: that thread only (tid = pid is the main thread, the event loop)
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  // fields after the parenthesised command name; utime and stime are fields 14 and 15
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(rest[11]) + Number(rest[12])) / CLK_TCK) * 1000;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function median(xs: number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 50);
}

export const round = (n: number, d = 1): number => (Number.isFinite(n) ? Math.round(n * 10 ** d) / 10 ** d : n);

export function loadAverage(): number[] {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  } catch {
    return [];
  }
}

export function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}
