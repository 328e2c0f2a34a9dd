import { existsSync, mkdtempSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../types.js';
import { entry, makeCtx } from '../lib/test-helpers/context.js';
import { consoleLogger, createConsoleSink, formatConsoleLine } from './console.js';
import { fileLogger } from './file.js';
import { storeLogger } from './store.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('console logger', () => {
  it('formats one readable line', () => {
    const line = formatConsoleLine(
      entry({ actor: 'engineering-agent', event_id: 'evt_0mxca5xj40123456789abcdef', delivery_id: 'dlv_1', message: 'delivered', data: { attempt: 1 } }),
    );
    expect(line).toBe('12:00:01.123 INFO  deliver.success   github -> pr-review -> engineering-agent  evt=evt_0mxca5xj4012345 dlv=dlv_1  delivered  {"attempt":1}');
    expect(formatConsoleLine(entry(), true)).toContain('\x1b[36mINFO');
  });

  it('writes lines at or above its level', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    const sink = createConsoleSink({ level: 'warn' }, out);
    sink.log(entry({ level: 'info', phase: 'route.match' }));
    sink.log(entry({ level: 'warn', phase: 'deliver.retry' }));
    sink.log(entry({ level: 'error', phase: 'deliver.dead' }));
    const lines = text.trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/)[2])).toEqual(['deliver.retry', 'deliver.dead']);
  });

  it("OrgLoop's compact: false with show_payload: true adds the entry's data under its line", () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    const sink = createConsoleSink({ compact: false, show_payload: true }, out);
    sink.log(entry({ message: 'delivered', data: { attempt: 2, route: 'pr-review' } }));
    sink.log(entry({ message: 'no data' }));
    const lines = text.trimEnd().split('\n');
    expect(lines.slice(1, 5)).toEqual(['  data: {', '    "attempt": 2,', '    "route": "pr-review"', '  }']);
    expect(lines).toHaveLength(6);
    // compact (the default) stays one line per entry
    let compact = '';
    const out2 = new PassThrough();
    out2.on('data', (d) => (compact += d));
    createConsoleSink({ show_payload: true }, out2).log(entry({ data: { attempt: 2 } }));
    expect(compact.trimEnd().split('\n')).toHaveLength(1);
  });

  it('has a schema with the level enum', () => {
    expect(consoleLogger.configSchema).toMatchObject({ properties: { level: { enum: ['debug', 'info', 'warn', 'error'] } } });
  });
});

describe('store logger', () => {
  it('appends entries through the context, honouring level', async () => {
    const got: LogEntry[] = [];
    const sink = storeLogger.open(makeCtx({ level: 'info' }, { appendStoreLog: (e) => void got.push(e) }));
    sink.log(entry({ level: 'debug' }));
    sink.log(entry({ phase: 'source.emit' }));
    await sink.close();
    expect(got).toEqual([entry({ phase: 'source.emit' })]);
  });

  it('says clearly when the runtime has no store log', () => {
    expect(() => storeLogger.open(makeCtx({}, { name: 'audit' }))).toThrow('logger audit: the runtime offers no state store log to write to');
  });
});

describe('file logger', () => {
  it('writes JSON lines relative to the project, creating directories', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-filelog-'));
    const sink = fileLogger.open(makeCtx({ path: './logs/orgloop.jsonl' }, { projectDir: dir }));
    sink.log(entry({ phase: 'source.emit', level: 'debug' }));
    sink.log(entry({ phase: 'route.match' }));
    await sink.close();
    const lines = readFileSync(join(dir, 'logs/orgloop.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.phase)).toEqual(['source.emit', 'route.match']);
  });

  it('rotates by size keeping max_files, on line boundaries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-filelog-'));
    const sink = fileLogger.open(makeCtx({ path: 'a.jsonl', max_size: 1000, max_files: 2 }, { projectDir: dir }));
    for (let i = 0; i < 60; i++) {
      sink.log(entry({ message: `m${i}`, data: { pad: 'x'.repeat(40) } }));
      if (i % 7 === 0) await tick();
    }
    await sink.close();
    expect(readdirSync(dir).sort()).toEqual(['a.jsonl', 'a.jsonl.1', 'a.jsonl.2']);
    const all: number[] = [];
    for (const f of ['a.jsonl.2', 'a.jsonl.1', 'a.jsonl']) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1000);
      for (const l of text.trim().split('\n')) all.push(Number(JSON.parse(l).message.slice(1)));
    }
    // the newest entries survive in order, ending with the last one
    expect(all[all.length - 1]).toBe(59);
    expect(all).toEqual([...all].sort((a, b) => a - b));
    expect(all.length).toBeGreaterThan(10);
  });

  it('OrgLoop rotation block: gzip rotated files and prune by max_age', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-filelog-'));
    const old = join(dir, 'o.jsonl.4.gz');
    writeFileSync(old, 'stale');
    const past = new Date(Date.now() - 3 * 86_400_000);
    utimesSync(old, past, past);
    const sink = fileLogger.open(makeCtx({ path: 'o.jsonl', rotation: { max_size: '1KB', max_age: '1d', compress: true } }, { projectDir: dir }));
    expect(existsSync(old)).toBe(false);
    for (let i = 0; i < 40; i++) sink.log(entry({ message: `m${i}`, data: { pad: 'y'.repeat(40) } }));
    await sink.close();
    const files = readdirSync(dir).sort();
    expect(files).toContain('o.jsonl.1.gz');
    expect(files.filter((f) => f.endsWith('.tmp') || /\.\d+$/.test(f))).toEqual([]);
    const first = gunzipSync(readFileSync(join(dir, 'o.jsonl.1.gz'))).toString().trim().split('\n');
    expect(JSON.parse(first[0]!).phase).toBe('deliver.success');
  });

  it('validate: sizes and max_age', () => {
    expect(fileLogger.validate!({ path: 'x', max_size: '10MB', max_files: 3 })).toEqual([]);
    expect(fileLogger.validate!({ path: 'x', max_size: 'big' })).toEqual([{ path: 'max_size', message: expect.stringContaining('invalid size "big"') }]);
    expect(fileLogger.validate!({ path: 'x', rotation: { max_size: '1MB', max_age: 'old' } })).toEqual([
      { path: 'rotation.max_age', message: expect.stringContaining('invalid duration "old"') },
    ]);
    expect(fileLogger.validate!({ path: 'x', max_size: '1MB', rotation: { max_size: '2MB' } })).toEqual([
      { path: 'rotation.max_size', message: 'set max_size either at the top level or under rotation, not both' },
    ]);
  });
});
