// RuntimeQueries on SQLite: a read-only connection of its own; WAL lets it read while the
// executor writes.

import fs from 'node:fs';
import type Database from 'better-sqlite3';
import { connect } from '../sqlite/connect.js';
import { toStoreError } from '../sqlite/errors.js';
import type { BacklogRow, RuntimeQueries } from './queries.js';

export class SqliteQueries implements RuntimeQueries {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly stmts = new Map<string, Database.Statement>();

  constructor(private readonly location: string) {
    this.db = connect(location, true);
  }

  private sql(text: string): Database.Statement {
    let s = this.stmts.get(text);
    if (!s) {
      s = this.db.prepare(text);
      this.stmts.set(text, s);
    }
    return s;
  }

  /** Runs a read, mapping "store unusable" failures like the Store does. */
  protected read<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(toStoreError(e, this.location));
    }
  }

  backlog(): Promise<BacklogRow[]> {
    // the status index bounds this to unfinished and dead rows, however many were delivered
    return this.read(
      () =>
        this.sql(
          `SELECT route, actor, status, COUNT(*) AS count, MIN(run_at) AS oldest_run_at
           FROM deliveries INDEXED BY deliveries_status
           WHERE status IN ('pending', 'retry', 'leased', 'dead')
           GROUP BY route, actor, status`,
        ).all() as BacklogRow[],
    );
  }

  expiredLeases(now: number): Promise<number> {
    return this.read(
      () =>
        this.sql(`SELECT COUNT(*) FROM deliveries INDEXED BY deliveries_leased WHERE status = 'leased' AND lease_until < ?`)
          .pluck()
          .get(now) as number,
    );
  }

  storeBytes(): Promise<number> {
    return this.read(() => {
      const pages = this.sql('PRAGMA page_count').pluck().get() as number;
      const size = this.sql('PRAGMA page_size').pluck().get() as number;
      let wal = 0;
      try {
        wal = fs.statSync(`${this.location}-wal`).size;
      } catch {
        // no WAL file right now (checkpointed and truncated)
      }
      return pages * size + wal;
    });
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
