import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MODULE = fileURLToPath(new URL('../../dist/engine/run/young-gen.js', import.meta.url));

/** Largest new space (MB) seen in a fresh process that keeps a rolling window of live objects. */
function peakNewSpaceMb(capMb: number, idleBetween = false): number {
  const script = `
    const { capYoungGeneration } = await import(${JSON.stringify(MODULE)});
    const v8 = await import('node:v8');
    const size = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;
    capYoungGeneration(${capMb});
    let max = 0;
    const load = async () => {
      const keep = [];
      for (let i = 0; i < 2_000_000; i++) {
        keep.push({ i, s: 'x' + i });
        if (keep.length > 100_000) keep.splice(0, 50_000);
        if (i % 10000 === 0) { await new Promise((r) => setImmediate(r)); max = Math.max(max, size()); }
      }
    };
    await load();
    ${idleBetween ? `
    // idle: V8 may shrink the new space; under load again it must be able to grow back to the cap
    await new Promise((r) => setTimeout(r, 300));
    max = 0;
    await load();` : ''}
    console.log(max);
  `;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim());
}

describe('capYoungGeneration', () => {
  it("keeps the new space at the cap under allocation that grows it to V8's maximum otherwise", () => {
    expect(peakNewSpaceMb(0)).toBeGreaterThanOrEqual(16);
    expect(peakNewSpaceMb(4)).toBe(4);
    expect(peakNewSpaceMb(8, true)).toBe(8);
  }, 60_000);
});
