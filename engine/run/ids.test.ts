import { describe, expect, it } from 'vitest';
import { shortId } from '../../providers/lib/short-id.js';
import { newId } from './ids.js';

describe('newId', () => {
  it('mints ids whose short forms never repeat in one process, in minting order', () => {
    // a tight loop mints thousands per millisecond: the case that printed four equal short ids
    const ids = Array.from({ length: 200_000 }, () => newId('evt'));
    expect(new Set(ids.map(shortId)).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids.slice(0, 100)) expect(id).toMatch(/^evt_[0-9a-z]{9}[0-9a-f]{16}$/);
  });
});
