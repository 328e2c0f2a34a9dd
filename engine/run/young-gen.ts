// Caps the V8 young generation of a long-running executor. Under sustained load V8 grows the new
// space to 32 MB (two 16 MB semi-spaces: ~34 MB of RSS) although half of it serves the same
// throughput (measured: docs/performance.md). The maximum cannot be changed after start-up, but
// the growth factor can: after each GC, growth is off at or above the cap and on below it (V8
// shrinks the new space again when the executor idles, and must be able to regrow it).

import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

const MB = 1024 * 1024;
const V8_DEFAULT_GROWTH = 2;

function newSpaceSize(): number {
  for (const s of getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_size;
  return 0;
}

/** Keeps the new space at or under about `capMb` (0 leaves V8 alone); returns a stop function. */
export function capYoungGeneration(capMb: number): () => void {
  if (!(capMb > 0)) return () => {};
  let growing = true;
  const check = () => {
    const grow = newSpaceSize() < capMb * MB;
    if (grow === growing) return;
    growing = grow;
    setFlagsFromString(`--semi-space-growth-factor=${grow ? V8_DEFAULT_GROWTH : 1}`);
  };
  const obs = new PerformanceObserver(check);
  obs.observe({ entryTypes: ['gc'] });
  return () => {
    obs.disconnect();
    if (!growing) setFlagsFromString(`--semi-space-growth-factor=${V8_DEFAULT_GROWTH}`);
  };
}
