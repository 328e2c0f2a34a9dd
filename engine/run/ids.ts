// Ids for events and deliveries: time-ordered (so listings sort by arrival) and unique without coordination.

import { randomBytes } from 'node:crypto';

let pool = Buffer.alloc(0);
let offset = 0;

function randomHex(bytes: number): string {
  // One syscall per 4 KB of entropy instead of one per id: ids are minted on the hot path.
  if (offset + bytes > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  const s = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return s;
}

let lastMs = -1;
let seq = 0;

/**
 * `evt_` / `dlv_` + 9 base36 chars of epoch ms + 16 hex chars: 6 that start random each
 * millisecond and count up within it, then 10 random. The short form (providers/lib/short-id.ts)
 * ends after the counting six, so one process never prints the same short id twice; two
 * processes share one only with the same millisecond and the same random start.
 */
export function newId(prefix: 'evt' | 'dlv' | 'exe'): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    // the lower half of 24 bits: room for 8 million ids in the millisecond before it could wrap
    seq = parseInt(randomHex(3), 16) >>> 1;
  } else {
    seq++;
  }
  return `${prefix}_${ms.toString(36).padStart(9, '0')}${(seq & 0xffffff).toString(16).padStart(6, '0')}${randomHex(5)}`;
}
