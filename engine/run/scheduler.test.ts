import { describe, expect, it } from 'vitest';
import { POLL_SLOT_MS, firstPollDelay, nextPollSlot, pollOffset, pollPhase } from './scheduler.js';

describe('poll phase', () => {
  it('is a stable fraction in [0, 1) per source id', () => {
    expect(pollPhase('gh-1')).toBe(pollPhase('gh-1'));
    expect(pollPhase('gh-1')).not.toBe(pollPhase('gh-2'));
    for (const id of ['', 'a', 'github', 'gh-1999', 'x'.repeat(500)]) {
      expect(pollPhase(id)).toBeGreaterThanOrEqual(0);
      expect(pollPhase(id)).toBeLessThan(1);
    }
  });

  it('spreads similar ids evenly over the interval', () => {
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 2000; i++) buckets[Math.floor(pollPhase(`gh-${i}`) * 10)]!++;
    for (const n of buckets) {
      expect(n).toBeGreaterThan(140);
      expect(n).toBeLessThan(260);
    }
  });

  it('first poll within min(interval, 5 s)', () => {
    for (let i = 0; i < 200; i++) {
      const d = firstPollDelay(`s${i}`, 60_000);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(5_000);
      expect(firstPollDelay(`s${i}`, 1_000)).toBeLessThan(1_000);
    }
  });

  it('next slot is the first grid time at or after notBefore', () => {
    const interval = 60_000;
    for (let i = 0; i < 200; i++) {
      const id = `gh-${i}`;
      const phase = pollOffset(id, interval);
      for (const notBefore of [0, 1, 1_700_000_000_000, 1_700_000_000_000 + i * 977]) {
        const slot = nextPollSlot(id, interval, notBefore);
        expect(slot).toBeGreaterThanOrEqual(notBefore);
        expect(slot - notBefore).toBeLessThan(interval);
        expect((((slot - phase) % interval) + interval) % interval).toBe(0);
      }
      // a poll on its slot is followed one interval later (notBefore = start + interval / 2)
      const onSlot = nextPollSlot(id, interval, 1_700_000_000_000);
      expect(nextPollSlot(id, interval, onSlot + interval / 2)).toBe(onSlot + interval);
    }
  });

  it('rounds offsets to whole slots, so sources due in the same second share a wake-up', () => {
    const offsets = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const off = pollOffset(`gh-${i}`, 60_000);
      expect(off % POLL_SLOT_MS).toBe(0);
      expect(off).toBeGreaterThanOrEqual(0);
      expect(off).toBeLessThan(60_000);
      expect(off).toBeLessThanOrEqual(pollPhase(`gh-${i}`) * 60_000);
      offsets.add(off);
    }
    expect(offsets.size).toBe(60); // every second of the minute is used
    // an interval shorter than a slot keeps one slot per interval
    for (let i = 0; i < 50; i++) expect(pollOffset(`s${i}`, 400)).toBe(0);
  });
});
