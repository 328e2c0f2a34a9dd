import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../store.js';
import { WriteBatcher } from './batch.js';
import { toStoreError } from './errors.js';
import { tempStorePath } from './test-helpers/fixtures.js';

function db(): { db: Database.Database; file: string } {
  const file = tempStorePath();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const d = new Database(file);
  d.pragma('journal_mode = WAL');
  d.exec('CREATE TABLE t (v TEXT NOT NULL)');
  return { db: d, file };
}

describe('WriteBatcher', () => {
  it('commits writes from one event-loop turn together; a failing op rejects alone', async () => {
    const { db: d, file } = db();
    const b = new WriteBatcher(d, (e) => toStoreError(e, file));
    const ins = d.prepare('INSERT INTO t (v) VALUES (?)');
    const results = await Promise.allSettled([
      b.submit(() => ins.run('a').changes),
      b.submit(() => {
        ins.run('rolled back with its savepoint');
        throw new Error('stale');
      }),
      b.submit(() => ins.run('c').changes),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe('stale');
    expect(d.prepare('SELECT v FROM t ORDER BY rowid').pluck().all()).toEqual(['a', 'c']);
    d.close();
  });

  it('disk full: every op of the batch fails with StoreUnavailableError and nothing is committed', async () => {
    const { db: d, file } = db();
    const b = new WriteBatcher(d, (e) => toStoreError(e, file));
    const ins = d.prepare('INSERT INTO t (v) VALUES (?)');
    await b.submit(() => ins.run('before'));
    // cap the file at its current size: the next growth is a real SQLITE_FULL
    d.pragma(`max_page_count = ${d.pragma('page_count', { simple: true }) as number}`);
    const results = await Promise.allSettled([
      b.submit(() => ins.run('small')),
      b.submit(() => ins.run('x'.repeat(200_000))),
    ]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const err = (r as PromiseRejectedResult).reason as StoreUnavailableError;
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect(err.code).toBe('SQLITE_FULL');
      expect(err.message).toContain(`state store ${file} is unavailable: the disk is full`);
    }
    expect(d.prepare('SELECT v FROM t').pluck().all()).toEqual(['before']);
    d.close();
  });
});
