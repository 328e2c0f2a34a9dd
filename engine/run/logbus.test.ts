import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileLogger } from '../../providers/loggers/file.js';
import type { LogEntry } from '../../providers/types.js';
import { providerContext } from '../../test/fakes/context.js';
import { SqliteStore } from '../../state/sqlite/store.js';
import { tempStorePath } from '../../state/sqlite/test-helpers/fixtures.js';
import { LogBus } from './logbus.js';

const entry = (level: LogEntry['level']): LogEntry => ({ time: new Date().toISOString(), phase: 'deliver.attempt', level, message: level });

describe('LogBus.enabled', () => {
  it('is true only for levels some destination takes, and follows the configured loggers', async () => {
    const bus = new LogBus(null, { fallbackConsole: () => {}, fallbackLevel: 'warn', warn: () => {} });
    expect(['debug', 'info', 'warn', 'error'].map((l) => bus.enabled(l as LogEntry['level']))).toEqual([false, false, true, true]);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orgloop-logbus-'));
    const file = path.join(dir, 'log.jsonl');
    const ctx = providerContext('audit', { path: file });
    await bus.configure([{ name: 'audit', type: 'file', provider: fileLogger, ctx, level: 'debug', fingerprint: 'f1' }]);
    expect(bus.enabled('debug')).toBe(true);
    bus.emit(entry('debug'));
    await bus.close();
    expect(fs.readFileSync(file, 'utf8')).toContain('"level":"debug"');
  });

  it('takes the store level into account when no store logger is configured', async () => {
    const store = new SqliteStore(tempStorePath());
    const bus = new LogBus(store, { storeLevel: 'info', warn: () => {} });
    expect(bus.enabled('debug')).toBe(false);
    expect(bus.enabled('info')).toBe(true);
    bus.emit(entry('info'));
    await bus.close();
    expect((await store.logs({})).map((r) => r.level)).toEqual(['info']);
    await store.close();
  });
});
