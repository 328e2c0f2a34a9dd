// Opening a SQLite store: pragmas, then pending migrations and the state_meta row, all under
// BEGIN IMMEDIATE so two processes opening a fresh file at once serialize instead of racing.

import fs from 'node:fs';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { migrations } from '../migrations/index.js';
import { StoreUnavailableError } from '../store.js';
import { toStoreError } from './errors.js';

export const FORMAT_VERSION = 1;
const BUSY_TIMEOUT_MS = 5000;
const LATEST = migrations[migrations.length - 1].version;

export function connect(file: string, readonly: boolean): Database.Database {
  let db: Database.Database;
  try {
    if (readonly) {
      if (!fs.existsSync(file)) {
        throw new StoreUnavailableError(`no state store at ${file} (nothing has been applied yet)`, 'ENOENT', file);
      }
      db = new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    } else {
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
      // Created 0600 before SQLite opens it: SQLite gives the -wal and -shm files the database
      // file's mode, so the whole store stays readable by its owner only.
      if (file !== ':memory:' && !fs.existsSync(file)) fs.closeSync(fs.openSync(file, 'a', 0o600));
      db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    }
  } catch (e) {
    throw toStoreError(e, file);
  }
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (!readonly && db.pragma('journal_mode', { simple: true }) !== 'wal') {
      db.pragma('journal_mode = WAL');
    }
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    if (readonly) checkSchema(db, file);
    else migrate(db, file);
  } catch (e) {
    db.close();
    throw toStoreError(e, file);
  }
  return db;
}

function appliedVersion(db: Database.Database): number {
  const table = db
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`)
    .get();
  if (!table) return 0;
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

function hasMeta(db: Database.Database): boolean {
  return appliedVersion(db) > 0 && db.prepare('SELECT 1 FROM state_meta WHERE id = 1').get() !== undefined;
}

function refuseNewer(version: number, file: string): void {
  if (version > LATEST) {
    throw new StoreUnavailableError(
      `state store ${file} has schema version ${version}, newer than this orgloop understands (${LATEST}); upgrade orgloop`,
      'SCHEMA_TOO_NEW',
      file,
    );
  }
}

function checkSchema(db: Database.Database, file: string): void {
  const v = appliedVersion(db);
  refuseNewer(v, file);
  if (v < LATEST || !hasMeta(db)) {
    throw new StoreUnavailableError(
      `state store ${file} needs a schema upgrade (version ${v} < ${LATEST}); run any writing command (e.g. orgloop apply) first`,
      'SCHEMA_OUTDATED',
      file,
    );
  }
}

function migrate(db: Database.Database, file: string): void {
  // common case: nothing to do, and no write lock taken
  const seen = appliedVersion(db);
  refuseNewer(seen, file);
  if (seen === LATEST && hasMeta(db)) return;

  db.transaction(() => {
    // re-check inside the lock: another process may have migrated meanwhile
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
    const current = appliedVersion(db);
    refuseNewer(current, file);
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of migrations) {
      if (m.version <= current) continue;
      db.exec(m.sqlite);
      record.run(m.version, m.name, new Date().toISOString());
    }
    db.prepare(
      `INSERT INTO state_meta (id, lineage, serial, format_version, secret_salt)
       VALUES (1, ?, 0, ?, ?) ON CONFLICT (id) DO NOTHING`,
    ).run(randomUUID(), FORMAT_VERSION, randomBytes(32).toString('hex'));
  }).immediate();
}
