// RuntimeQueries on SQLite: a read-only connection of its own; WAL lets it read while the
// executor writes.

import fs from 'node:fs';
import type Database from 'better-sqlite3';
import { connect } from '../sqlite/connect.js';
import { toStoreError } from '../sqlite/errors.js';
import { RuntimeQueries } from './queries.js';

export class SqliteQueries extends RuntimeQueries {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly stmts = new Map<string, Database.Statement>();

  constructor(private readonly location: string) {
    super();
    this.db = connect(location, true);
  }

  protected all<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    try {
      let s = this.stmts.get(sql);
      if (!s) {
        s = this.db.prepare(sql);
        this.stmts.set(sql, s);
      }
      return Promise.resolve(s.all(...params) as T[]);
    } catch (e) {
      return Promise.reject(toStoreError(e, this.location));
    }
  }

  async storeBytes(): Promise<number> {
    const [pages] = await this.all<{ page_count: number }>('PRAGMA page_count');
    const [size] = await this.all<{ page_size: number }>('PRAGMA page_size');
    let wal = 0;
    try {
      wal = fs.statSync(`${this.location}-wal`).size;
    } catch {
      // no WAL file right now (checkpointed and truncated)
    }
    return pages!.page_count * size!.page_size + wal;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
