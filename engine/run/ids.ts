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

/** `evt_` / `dlv_` + 9 base36 chars of epoch ms + 16 hex chars of randomness. */
export function newId(prefix: 'evt' | 'dlv' | 'exe'): string {
  return `${prefix}_${Date.now().toString(36).padStart(9, '0')}${randomHex(8)}`;
}
