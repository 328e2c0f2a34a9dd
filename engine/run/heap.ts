// Heap tuning for the executor, a long-running server with a small live heap and a high
// allocation rate. For such a process V8 sets the next full GC at up to 4x the live size, so the
// executor's RSS swung widely under the same load; a fixed growth factor of 1.5 holds it lower
// and steadier for the same throughput (figures: docs/performance.md, bench/heap.ts). V8 reads this
// flag whenever it recomputes the limit, so it can be set after start-up (unlike the heap's
// maximum sizes).

import { setFlagsFromString } from 'node:v8';

/** Next full GC when the old generation has grown by `percent` over the live size (0 = V8's own policy). */
export function setHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${Math.floor(percent)}`);
}
