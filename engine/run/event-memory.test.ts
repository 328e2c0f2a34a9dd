import { describe, expect, it } from 'vitest';
import { EventMemory } from './event-memory.js';
import type { OrgEvent } from '../../providers/types.js';

const event = (id: string, size: number): OrgEvent => ({ id, type: 't', source: 's', time: '', provenance: {}, payload: { pad: 'x'.repeat(size) }, trace_id: id, parent_id: null, hops: 0 });

/** a store of event JSON texts that counts reads */
function storeOf(...events: OrgEvent[]) {
  const texts = new Map(events.map((e) => [e.id, JSON.stringify(e)]));
  const reads: string[] = [];
  return { reads, read: async (id: string) => (reads.push(id), texts.get(id) ?? null), text: (id: string) => texts.get(id)! };
}

describe('EventMemory', () => {
  it('keeps a body for its deliveries while it fits; the last release frees it', () => {
    const m = new EventMemory(10_000);
    const a = event('a', 1000);
    expect(m.keep(a, JSON.stringify(a), 2)).toBe(true);
    expect(m.keep(event('b', 10_000), JSON.stringify(event('b', 10_000)), 1)).toBe(false);
    expect(m.get('a')?.event).toBe(a);
    m.release('a');
    expect(m.size).toBe(1);
    m.release('a');
    expect(m.size).toBe(0);
    expect(m.used).toBe(0);
  });

  it('past the budget a delivery waits holding nothing, then reads its body again; fan-out shares one copy', async () => {
    const [a, b] = [event('a', 3000), event('b', 3000)];
    const s = storeOf(a, b);
    const m = new EventMemory(8000); // one body (~2 x 3 KB) at a time
    const first = await m.acquire('a', s.read);
    const shared = await m.acquire('a', s.read);
    expect(shared).toBe(first);
    let second: unknown = null;
    const waiting = m.acquire('b', s.read).then((h) => (second = h));
    await new Promise((r) => setImmediate(r));
    expect(second).toBeNull();
    expect(m.used).toBeLessThanOrEqual(8000);
    m.release('a');
    await new Promise((r) => setImmediate(r));
    expect(second).toBeNull(); // a still has one delivery
    m.release('a');
    await waiting;
    expect((second as { event: OrgEvent }).event).toEqual(b);
    expect(s.reads).toEqual(['a', 'b', 'b']);
    m.release('b');
    expect(m.used).toBe(0);
  });

  it('one body larger than the whole budget still runs, alone; a missing event is null', async () => {
    const big = event('big', 50_000);
    const s = storeOf(big);
    const m = new EventMemory(1000);
    expect((await m.acquire('big', s.read))?.event).toEqual(big);
    expect(await m.acquire('gone', s.read)).toBeNull();
    m.release('big');
    expect(m.used).toBe(0);
  });
});
