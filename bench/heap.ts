// What the executor's heap tuning (engine/run/heap.ts) does, measured in a fresh process each:
// ~15 MB live that keeps promoting garbage, once with a 50% growth factor set after start-up
// and once with V8's own policy. A measurement of V8, so a benchmark rather than a test.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './lib/measure.js';
import type { BenchResult } from './lib/report.js';

const MODULE = join(ROOT, 'dist/engine/run/heap.js');

/** Largest old space (MB) of a fresh process with ~15 MB live that keeps promoting garbage. */
function peakOldSpaceMb(percent: number): number {
  const script = `
    const { setHeapGrowth } = await import(${JSON.stringify(MODULE)});
    const v8 = await import('node:v8');
    setHeapGrowth(${percent});
    const old = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_size / 1048576;
    let max = 0;
    const live = [];
    for (let i = 0; i < 200_000; i++) live.push({ i, s: 'live' + i });
    let ring = [];
    for (let i = 0; i < 4_000_000; i++) {
      ring.push({ i, s: 'x' + i });
      if (ring.length > 200_000) ring = ring.slice(100_000);
      if (i % 20000 === 0) { await new Promise((r) => setImmediate(r)); max = Math.max(max, old()); }
    }
    console.log(live.length > 0 ? max : -1);
  `;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim());
}

export async function run(): Promise<BenchResult> {
  const tuned = Math.round(peakOldSpaceMb(50));
  const untuned = Math.round(peakOldSpaceMb(0));
  return {
    name: 'heap',
    metrics: { old_space_peak_mb_growth_50: tuned, old_space_peak_mb_v8_default: untuned },
    checks: [
      { target: 'growth 50%: old space peak < 70 MB', measured: `${tuned} MB`, pass: tuned < 70 },
      { target: "V8's own policy lets it grow > 1.5x that", measured: `${untuned} MB (${(untuned / tuned).toFixed(1)}x)`, pass: untuned > tuned * 1.5 },
    ],
  };
}
