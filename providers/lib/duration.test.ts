import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { durationIssue, parseDuration } from './duration.js';
import { parseSize } from './size.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h30m', 5_400_000],
    ['1h 30m', 5_400_000],
    ['1d', 86_400_000],
    ['1.5h', 5_400_000],
    ['1w', 604_800_000],
  ])('%s -> %d ms', (s, ms) => expect(parseDuration(s)).toBe(ms));

  it.each(['', '5', 'abc', '5x', 'm5', '-1s', '1h30', '2 minutes'])('rejects %j with a clear message', (s) => {
    expect(() => parseDuration(s)).toThrow(`invalid duration ${JSON.stringify(s)}: expected a number with a unit (ms, s, m, h, d, w)`);
  });

  it('property: any combination of whole units parses to its sum', () => {
    fc.assert(
      fc.property(fc.nat(30), fc.nat(23), fc.nat(59), fc.nat(59), fc.nat(999), (d, h, m, sec, ms) => {
        const parts = [d && `${d}d`, h && `${h}h`, m && `${m}m`, sec && `${sec}s`, ms && `${ms}ms`].filter(Boolean).join('') || '0s';
        expect(parseDuration(parts)).toBe(((d * 24 + h) * 60 + m) * 60_000 + sec * 1000 + ms);
      }),
    );
  });

  it('rejects non-strings', () => {
    expect(() => parseDuration(30 as unknown as string)).toThrow('invalid duration 30');
  });

  it('durationIssue reports bad and zero durations by path', () => {
    expect(durationIssue({ window: '10m' }, 'window')).toBeNull();
    expect(durationIssue({}, 'window')).toBeNull();
    expect(durationIssue({ window: 'soon' }, 'window')?.message).toMatch(/invalid duration "soon"/);
    expect(durationIssue({ window: '0s' }, 'window')).toEqual({ path: 'window', message: 'window must be greater than zero' });
  });
});

describe('parseSize', () => {
  it.each([
    ['10MB', 10 * 1024 * 1024],
    ['25 MB', 25 * 1024 * 1024],
    ['512kb', 512 * 1024],
    ['1.5GB', 1.5 * 1024 ** 3],
    ['100', 100],
    [2048, 2048],
  ])('%j', (v, n) => expect(parseSize(v)).toBe(n));

  it.each(['ten', '10 parsecs', '', -5])('rejects %j', (v) => {
    expect(() => parseSize(v)).toThrow(/invalid size .*expected bytes or a number with a unit/);
  });
});
