import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { migrations } from '../migrations/index.js';
import { openStore } from '../open.js';
import { StoreUnavailableError, type Store } from '../store.js';
import { ingestItem, newVersion, tempStorePath } from './test-helpers/fixtures.js';
import { describeStoreContract } from '../test-helpers/contract.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const opened: Store[] = [];

async function open(file = tempStorePath(), clock?: () => number): Promise<Store> {
  const s = await openStore(file, clock ? { clock } : {});
  opened.push(s);
  return s;
}

afterEach(async () => {
  while (opened.length) await opened.pop()!.close();
});

function runChild(script: string, args: string[], onStderr?: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'test-helpers', script), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      for (const line of b.toString().split('\n')) if (line) onStderr?.(line);
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${script} exited ${code}: ${err}`))));
  });
}

describe('opening and migrations', () => {
  it('creates parent directories, sets WAL/FULL, and records each migration once', async () => {
    const file = tempStorePath();
    const a = await open(file);
    const meta = await a.meta();
    expect(meta.serial).toBe(0);
    expect(meta.format_version).toBe(1);
    expect(meta.lineage).toMatch(/^[0-9a-f-]{36}$/);
    expect(meta.secret_salt).toMatch(/^[0-9a-f]{64}$/);
    await a.close();
    opened.pop();

    const b = await open(file);
    expect(await b.meta()).toEqual(meta); // reopening changes nothing

    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    const rows = raw.prepare('SELECT version, name FROM schema_migrations').all();
    expect(rows).toEqual(migrations.map((m) => ({ version: m.version, name: m.name })));
    expect(rows[0]).toEqual({ version: 1, name: 'initial' });
    raw.close();
  });

  it('two processes opening a fresh store at once agree on one lineage', async () => {
    const file = tempStorePath();
    const lineages = await Promise.all([1, 2, 3].map(() => runChild('opener.ts', [file])));
    expect(new Set(lineages).size).toBe(1);
    const s = await open(file);
    expect((await s.meta()).lineage).toBe(lineages[0]);
  });

  it('refuses a store written by a newer schema', async () => {
    const file = tempStorePath();
    await (await open(file)).close();
    opened.pop();
    const raw = new Database(file);
    raw.prepare("INSERT INTO schema_migrations VALUES (999, 'future', 'x')").run();
    raw.close();
    await expect(openStore(file)).rejects.toThrow(/schema version 999, newer than this orgloop understands/);
  });

  it('a file that is not a database gives a clear StoreUnavailableError', async () => {
    const file = tempStorePath();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, 'this is not sqlite '.repeat(100));
    const err = await openStore(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as StoreUnavailableError).code).toBe('SQLITE_NOTADB');
    expect((err as Error).message).toContain(`state store ${file} is unavailable: the file is not an orgloop state store`);
  });

  it('read-only: a missing store is reported, writes fail with SQLITE_READONLY, reads work', async () => {
    const file = tempStorePath();
    await expect(openStore(file, { readonly: true })).rejects.toThrow(`no state store at ${file}`);
    const w = await open(file);
    await w.writeVersion(newVersion(0, 'a'));
    const ro = await openStore(file, { readonly: true });
    opened.push(ro);
    expect((await ro.current())?.serial).toBe(1);
    const err = await ro.ingest([ingestItem()]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as StoreUnavailableError).code).toMatch(/^SQLITE_READONLY/);
    expect((err as Error).message).toMatch(/is unavailable: the state file is read-only/);
    expect(await w.events({})).toEqual([]);
  });
});

describe('claims across processes', () => {
  it('separate processes claiming the same file never share a delivery', async () => {
    const file = tempStorePath();
    const s = await open(file);
    let ready = 0;
    let onReady!: () => void;
    const allReady = new Promise<void>((r) => (onReady = r));
    const children = ['P1', 'P2', 'P3'].map((owner) =>
      runChild('claimer.ts', [file, owner], (line) => line === 'ready' && ++ready === 3 && onReady()),
    );
    await allReady;
    const items = Array.from({ length: 1500 }, () => ingestItem());
    await s.ingest(items);
    fs.writeFileSync(`${file}.go`, '');
    const completed = (await Promise.all(children)).map((out) => JSON.parse(out) as string[]);
    const all = completed.flat();
    expect(all).toHaveLength(1500);
    expect(new Set(all).size).toBe(1500);
    const ds = await s.deliveries({});
    expect(ds.every((d) => d.status === 'delivered' && d.attempts === 1)).toBe(true);
  }, 30_000);
});

describeStoreContract({ name: 'sqlite', newLocation: async () => tempStorePath() });
