import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MODULE = fileURLToPath(new URL('../../dist/engine/run/heap.js', import.meta.url));

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

describe('setHeapGrowth', () => {
  it('set after start-up, a 50% growth factor keeps the old space well under what V8 lets it reach by default', () => {
    const tuned = peakOldSpaceMb(50);
    const untuned = peakOldSpaceMb(0);
    expect(tuned).toBeLessThan(70);
    expect(untuned).toBeGreaterThan(tuned * 1.5);
  }, 60_000);
});
