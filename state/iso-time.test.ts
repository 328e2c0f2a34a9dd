import { describe, expect, it } from 'vitest';
import { isoTime } from './iso-time.js';

describe('isoTime', () => {
  it('formats like Date#toISOString for repeated, later and earlier milliseconds', () => {
    for (const ms of [0, 1_700_000_000_123, 1_700_000_000_123, 1_700_000_000_124, 1_600_000_000_000, 1_700_000_000_123]) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
  });
});
