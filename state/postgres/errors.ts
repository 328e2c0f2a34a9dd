// Maps Postgres failures that mean "the store is unusable" (server unreachable, disk full,
// read-only) to StoreUnavailableError; anything else is a bug and is rethrown untouched.

import { StoreUnavailableError } from '../store.js';

// SQLSTATE classes and codes, plus Node socket errors
const UNAVAILABLE: Array<[RegExp, string]> = [
  [/^08/, 'the connection to the server failed'],
  [/^53100$/, 'the disk is full'],
  [/^53/, 'the server is out of resources'],
  [/^57P0[1-3]$/, 'the server is shutting down or not accepting connections'],
  [/^25006$/, 'the store is open read-only'],
  [/^3D000$/, 'the database does not exist'],
  [/^28/, 'authentication failed'],
  [/^E(CONNREFUSED|CONNRESET|NOTFOUND|TIMEDOUT|PIPE|HOSTUNREACH)$/, 'the server cannot be reached'],
];

function reasonFor(code: string): string | undefined {
  return UNAVAILABLE.find(([re]) => re.test(code))?.[1];
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

export function toStoreError(e: unknown, location: string): unknown {
  if (e instanceof StoreUnavailableError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const reason = typeof code === 'string' ? reasonFor(code) : undefined;
  if (!reason) {
    if (e instanceof Error && /Connection terminated|timeout exceeded when trying to connect/i.test(e.message)) {
      return new StoreUnavailableError(
        `state store ${redactUrl(location)} is unavailable: the connection to the server failed (${e.message})`,
        'ECONNECTION',
        location,
      );
    }
    return e;
  }
  const detail = e instanceof Error ? e.message : String(e);
  return new StoreUnavailableError(
    `state store ${redactUrl(location)} is unavailable: ${reason} (${code as string}: ${detail})`,
    code as string,
    location,
  );
}
