// Maps SQLite failures that mean "the store itself is unusable" to StoreUnavailableError, so the
// executor can answer 5xx and the CLI can print one clear line. Anything else (constraint
// violations, SQL mistakes) is a bug and is rethrown untouched.

import { StoreUnavailableError } from '../store.js';

const UNAVAILABLE: Record<string, string> = {
  SQLITE_FULL: 'the disk is full',
  SQLITE_READONLY: 'the state file is read-only',
  SQLITE_IOERR: 'an I/O error occurred',
  SQLITE_CANTOPEN: 'the state file cannot be opened',
  SQLITE_PERM: 'permission denied',
  SQLITE_BUSY: 'another process held the write lock for too long',
  SQLITE_LOCKED: 'the database is locked',
  SQLITE_CORRUPT: 'the state file is corrupt',
  SQLITE_NOTADB: 'the file is not an orgloop state store',
  SQLITE_NOMEM: 'out of memory',
};

function baseCode(code: string): string {
  // extended codes look like SQLITE_IOERR_WRITE or SQLITE_READONLY_DBMOVED
  const m = /^SQLITE_[A-Z]+/.exec(code);
  return m ? m[0] : code;
}

export function isUnavailable(e: unknown): boolean {
  if (e instanceof StoreUnavailableError) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && baseCode(code) in UNAVAILABLE;
}

export function toStoreError(e: unknown, location: string): unknown {
  if (e instanceof StoreUnavailableError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return e;
  const reason = UNAVAILABLE[baseCode(code)];
  if (!reason) return e;
  const detail = e instanceof Error ? e.message : String(e);
  return new StoreUnavailableError(
    `state store ${location} is unavailable: ${reason} (${code}: ${detail})`,
    code,
    location,
  );
}
