import { mkdtempSync, readFileSync, writeFileSync, existsSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rotateLog, rotateOptions } from './log-rotate.js';

describe('daemon log rotation', () => {
  it('copies and truncates past the size, keeps at most `keep` copies, and an appending writer carries on', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'orgloop-rot-')), 'orgloop.log');
    const fd = openSync(file, 'a'); // as start --daemon and systemd open it
    const o = { maxBytes: 100, keep: 2 };
    for (let round = 1; round <= 4; round++) {
      writeSync(fd, `round ${round} `.padEnd(150, 'x') + '\n');
      expect(rotateLog(file, o)).toBe(true);
      expect(readFileSync(file, 'utf8')).toBe('');
    }
    expect(rotateLog(file, o)).toBe(false); // empty: nothing to do
    writeSync(fd, 'after\n');
    closeSync(fd);
    expect(readFileSync(file, 'utf8')).toBe('after\n'); // at the new end, not at the old offset
    expect(readFileSync(`${file}.1`, 'utf8')).toMatch(/^round 4 /);
    expect(readFileSync(`${file}.2`, 'utf8')).toMatch(/^round 3 /);
    expect(existsSync(`${file}.3`)).toBe(false);
  });

  it('keep 0 only truncates; a missing file is left alone', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'orgloop-rot-')), 'orgloop.log');
    expect(rotateLog(file, { maxBytes: 1, keep: 0 })).toBe(false);
    writeFileSync(file, 'xx');
    expect(rotateLog(file, { maxBytes: 1, keep: 0 })).toBe(true);
    expect(existsSync(`${file}.1`)).toBe(false);
  });

  it('reads its settings from the environment, refusing nonsense', () => {
    expect(rotateOptions({})).toEqual({ maxBytes: 10 * 1024 * 1024, keep: 5 });
    expect(rotateOptions({ ORGLOOP_LOG_MAX_BYTES: '512KB', ORGLOOP_LOG_KEEP: '3' })).toEqual({ maxBytes: 512 * 1024, keep: 3 });
    expect(rotateOptions({ ORGLOOP_LOG_MAX_BYTES: '2048' }).maxBytes).toBe(2048);
    expect(() => rotateOptions({ ORGLOOP_LOG_MAX_BYTES: 'lots' })).toThrow('ORGLOOP_LOG_MAX_BYTES must be a size like 10MB');
    expect(() => rotateOptions({ ORGLOOP_LOG_KEEP: '-1' })).toThrow('ORGLOOP_LOG_KEEP must be a whole number');
  });
});
