// Benchmark 1: plan / apply at scale. A generated project of 10,000 routes, 2,000 sources, 500
// actors, 200 transforms and 500 prompt files, driven through the real CLI as child processes:
// validate, first plan (empty state), apply (all creates, each from an empty state), no-change
// plan, plan with 1% of routes changed, history, rollback plan. Each step: wall time of the
// whole process (Node start included) and peak RSS, median of RUNS (default 5).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeProject, DEFAULTS } from './gen-project.js';
import { log, median, round, runCli, type CliRun } from './lib/measure.js';
import type { BenchResult } from './lib/report.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

interface Step {
  wall_ms_median: number;
  wall_ms_all: number[];
  cpu_ms_median: number;
  peak_rss_mb_median: number;
  peak_rss_mb_max: number;
}

function summarize(runs: CliRun[]): Step {
  return {
    wall_ms_median: round(median(runs.map((r) => r.wallMs)), 0),
    wall_ms_all: runs.map((r) => round(r.wallMs, 0)),
    cpu_ms_median: round(median(runs.map((r) => r.cpuMs)), 0),
    peak_rss_mb_median: round(median(runs.map((r) => r.peakRssMb))),
    peak_rss_mb_max: round(Math.max(...runs.map((r) => r.peakRssMb))),
  };
}

export async function run(): Promise<BenchResult> {
  const size = {
    routes: Number(process.env.BENCH_ROUTES ?? DEFAULTS.routes),
    sources: Number(process.env.BENCH_SOURCES ?? DEFAULTS.sources),
    actors: DEFAULTS.actors,
    transforms: DEFAULTS.transforms,
    prompts: DEFAULTS.prompts,
  };
  const dir = mkdtempSync(join(tmpdir(), 'orgloop-bench-plan-'));
  const statesDir = mkdtempSync(join(tmpdir(), 'orgloop-bench-states-'));
  const steps: Record<string, Step> = {};
  try {
    const counts = writeProject(dir, size);
    const times = async (name: string, args: () => string[], okCodes = [0], before?: (i: number) => void): Promise<void> => {
      const runs: CliRun[] = [];
      for (let i = 0; i < RUNS; i++) {
        before?.(i);
        runs.push(await runCli(args(), { cwd: dir, okCodes }));
      }
      steps[name] = summarize(runs);
      log(`plan-apply ${name}: ${steps[name].wall_ms_median} ms wall, ${steps[name].cpu_ms_median} ms cpu, ${steps[name].peak_rss_mb_max} MB`);
    };
    const state = join(dir, '.orgloop', 'state.db');

    await times('validate', () => ['validate']);
    await times('plan_first', () => ['plan', '--detailed-exitcode'], [2]);
    // apply from empty: a fresh state file each run; the last one becomes the project's state
    let n = 0;
    await times('apply_create_all', () => ['apply', '--auto-approve', '--state', n++ === RUNS - 1 ? state : join(statesDir, `s${n}.db`)]);
    await times('plan_no_change', () => ['plan', '--detailed-exitcode']);
    writeProject(dir, { ...size, changed: 0.01 });
    await times('plan_1pct_changed', () => ['plan', '--detailed-exitcode'], [2]);
    await runCli(['apply', '--auto-approve'], { cwd: dir });
    await times('history', () => ['history']);
    const planFile = join(statesDir, 'rollback.plan');
    await times('rollback_plan', () => ['rollback', '--to', '1', '--out', planFile]);

    const s = steps;
    return {
      name: 'plan-apply',
      metrics: { project: counts, runs: RUNS, steps },
      checks: [
        { target: 'no-change plan (10k routes) < 1.5 s wall', measured: `${s.plan_no_change!.wall_ms_median} ms (cpu ${s.plan_no_change!.cpu_ms_median} ms)`, pass: s.plan_no_change!.wall_ms_median < 1500 },
        { target: 'apply from empty < 5 s wall', measured: `${s.apply_create_all!.wall_ms_median} ms (cpu ${s.apply_create_all!.cpu_ms_median} ms)`, pass: s.apply_create_all!.wall_ms_median < 5000 },
        {
          target: 'peak RSS of every step < 300 MB',
          measured: `${Math.max(...Object.values(s).map((x) => x.peak_rss_mb_max))} MB`,
          pass: Object.values(s).every((x) => x.peak_rss_mb_max < 300),
        },
      ],
      info: Object.entries(s).map(([k, v]) => ({ what: `${k} (median of ${RUNS})`, measured: `${v.wall_ms_median} ms wall (${v.cpu_ms_median} ms cpu), ${v.peak_rss_mb_median} MB` })),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(statesDir, { recursive: true, force: true });
  }
}
