// The hook spool: where an agent's hook puts a request the executor could not take (down,
// restarting, answering 5xx), so the event is not lost. One JSON line per request in
// `.orgloop/hook-spool.jsonl` beside the project (0600, in a 0700 directory, bounded in size),
// each with the Idempotency-Key (and signature) it was first sent with: whoever resends it, the
// next hook or an executor starting, the store keeps one event however often it arrives.
//
// Hooks of several agents may run at once, so the file is only touched under a lock file
// (created with O_EXCL; one left by a killed process is broken after LOCK_STALE_MS). Appends are
// one write under the lock. A drain claims the whole file by renaming it (under the lock, so no
// append lands in a claimed file), sends its lines oldest first, puts back what could not be sent
// yet and deletes the claimed file. A drainer killed midway leaves its claimed file behind; the
// next drain adopts it once it is CLAIM_STALE_MS old and resends it whole, which the keys make
// harmless.
//
// An agent's report to its callback (`POST /callback/<actor>`, with the per-delivery token as a
// bearer) is spooled the same way, with its URL and token: the token proves the end of one
// delivery of one actor, nothing more, and the file is the agent user's own (0600). The executor
// keeps one actor.stopped per delivery, so a report resent any number of times counts once.

import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, utimesSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { forwardToIngress } from './forward.js';
import { workspaceDirIn } from '../workspaces/select.js';

export const SPOOL_FILE = 'hook-spool.jsonl';
/** the default bound of the spool file */
export const DEFAULT_SPOOL_MAX_BYTES = 10 * 1024 * 1024;
const LOCK_STALE_MS = 10_000;
const CLAIM_STALE_MS = 30_000;
const LOCK_WAIT_MS = 2_000;

export interface SpoolEntry {
  v: 1;
  /** the source id: the request goes to POST /webhook/<source> */
  source: string;
  /** an agent's report: the callback URL it was sent to (POST /callback/<actor>) instead */
  url?: string;
  /** the exact body first sent (it is what a signature covers) */
  body: string;
  /** headers to resend: idempotency-key, x-hub-signature-256 when it was signed, a report's authorization */
  headers: Record<string, string>;
  spooled_at: string;
}

/** `.orgloop/hook-spool.jsonl` in a project directory (a named workspace: in `.orgloop/workspaces/<name>/`). */
export function spoolPath(projectDir: string, workspace = 'default'): string {
  // each workspace's executor drains its own spool: a hook meant for staging never reaches prod
  return join(workspaceDirIn(projectDir, workspace), SPOOL_FILE);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withLock<T>(path: string, fn: () => T): Promise<T> {
  const lock = `${path}.lock`;
  const until = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) unlinkSync(lock); // its holder died
      } catch {
        /* gone meanwhile */
      }
      if (Date.now() > until) throw new Error(`the hook spool ${path} stayed locked (remove ${lock} if no orgloop hook is running)`);
      await sleep(10 + Math.random() * 20);
    }
  }
  try {
    return fn();
  } finally {
    try {
      unlinkSync(lock);
    } catch {
      /* broken by another process after LOCK_STALE_MS */
    }
  }
}

function ensureDir(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
}

function endsWithNewline(path: string, size: number): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}

export type AppendResult = { ok: true; bytes: number } | { ok: false; error: string };

/** Appends entries, unless the file would grow past `maxBytes`. */
export async function spoolAppend(path: string, entries: SpoolEntry[], maxBytes = DEFAULT_SPOOL_MAX_BYTES): Promise<AppendResult> {
  if (entries.length === 0) return { ok: true, bytes: 0 };
  const text = entries.map((e) => JSON.stringify(e) + '\n').join('');
  const size = Buffer.byteLength(text);
  try {
    ensureDir(path);
    return await withLock(path, (): AppendResult => {
      let have = 0;
      try {
        have = statSync(path).size;
      } catch {
        /* no spool yet */
      }
      if (have + size > maxBytes) return { ok: false, error: `the hook spool ${path} is full (${have} bytes, limit ${maxBytes})` };
      // a writer killed mid-line leaves it cut: start on a line of our own
      const lead = have > 0 && !endsWithNewline(path, have) ? '\n' : '';
      appendFileSync(path, lead + text, { mode: 0o600 });
      return { ok: true, bytes: have + size + lead.length };
    });
  } catch (err) {
    return { ok: false, error: `could not write the hook spool ${path}: ${(err as Error).message}` };
  }
}

/** Claims the spool (and claims left by killed drainers): the claimed files, oldest first. */
async function claim(path: string): Promise<string[]> {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  return withLock(path, () => {
    const claimed: string[] = [];
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return claimed;
    }
    const orphans = names.filter((n) => n.startsWith(prefix) && n.endsWith('.draining'));
    for (const n of orphans) {
      const p = join(dir, n);
      try {
        if (Date.now() - statSync(p).mtimeMs < CLAIM_STALE_MS) continue; // a live drainer's
        const mine = claimName(path);
        renameSync(p, mine);
        touch(mine);
        claimed.push(mine);
      } catch {
        /* adopted by another drainer */
      }
    }
    try {
      const mine = claimName(path);
      renameSync(path, mine);
      touch(mine);
      claimed.push(mine);
    } catch {
      /* nothing spooled */
    }
    return claimed;
  });
}

/** A rename keeps the mtime of the last append: a fresh claim must not look abandoned. */
function touch(p: string): void {
  const now = new Date();
  utimesSync(p, now, now);
}

function claimName(path: string): string {
  return `${path}.${process.pid}-${randomBytes(4).toString('hex')}.draining`;
}

/** A line of the file, or null for one a killed writer left cut. */
function parseLine(line: string): SpoolEntry | null {
  try {
    const e = JSON.parse(line) as SpoolEntry;
    const ok = e && e.v === 1 && typeof e.source === 'string' && typeof e.body === 'string' && e.headers && typeof e.headers === 'object' && (e.url === undefined || typeof e.url === 'string');
    return ok ? e : null;
  } catch {
    return null;
  }
}

export type SendResult = { ok: true } | { ok: false; error: string; retryable: boolean };

export interface DrainResult {
  /** taken by the executor */
  sent: number;
  /** refused for good (4xx): dropped, with the reasons (`url`: an agent's report) */
  refused: Array<{ source: string; url?: string; error: string }>;
  /** put back for a later drain */
  kept: number;
  /** why sending stopped early, if it did */
  error?: string;
}

/**
 * Sends every spooled request with `send`, oldest first. The first failure a retry could fix
 * (the executor is still down) stops the drain: that entry and the rest go back to the spool.
 */
export async function spoolDrain(path: string, send: (e: SpoolEntry) => Promise<SendResult>): Promise<DrainResult> {
  const out: DrainResult = { sent: 0, refused: [], kept: 0 };
  let files: string[];
  try {
    files = await claim(path);
  } catch (err) {
    return { ...out, error: (err as Error).message };
  }
  for (const file of files) {
    let lines: string[];
    try {
      lines = readFileSync(file, 'utf8').split('\n');
    } catch {
      continue; // adopted by another drainer as an orphan meanwhile
    }
    const back: SpoolEntry[] = [];
    for (const line of lines) {
      if (!line.trim()) continue;
      const e = parseLine(line);
      if (!e) continue;
      if (out.error !== undefined) {
        back.push(e);
        continue;
      }
      const r = await send(e);
      if (r.ok) out.sent++;
      else if (!r.retryable) out.refused.push({ source: e.source, ...(e.url ? { url: e.url } : {}), error: r.error });
      else {
        out.error = r.error;
        back.push(e);
      }
    }
    if (back.length) {
      // entries that were in the spool stay, whatever its bound: they were accepted once
      const put = await spoolAppend(path, back, Number.MAX_SAFE_INTEGER);
      if (!put.ok) {
        out.error = put.error;
        continue; // keep the claimed file: a later drain adopts it
      }
      out.kept += back.length;
    }
    try {
      unlinkSync(file);
    } catch {
      /* adopted meanwhile: its entries are resent, and deduped by their keys */
    }
  }
  return out;
}

/**
 * Where a spooled report goes. A hook sends it where the executor said to (its callback URL); an
 * executor draining the spool is the one to tell, so it takes the report on its own address (the
 * URL may name a public address or a port that is not this executor's now).
 */
export function reportTarget(url: string, baseUrl: string, own: boolean): string {
  if (!own) return url;
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return url; // refused as the request it is
  }
  const at = path.lastIndexOf('/callback/');
  return at < 0 ? url : `${baseUrl.replace(/\/+$/, '')}${path.slice(at)}`;
}

/**
 * Sends the spool to an executor at `baseUrl`, each request with its own key and signature (or
 * token). `own`: the drainer is that executor, and takes agents' reports on its own address.
 */
export function drainToIngress(path: string, baseUrl: string, timeoutMs: number, own = false): Promise<DrainResult> {
  return spoolDrain(path, (e) => {
    const { 'idempotency-key': key, ...headers } = e.headers;
    const url = e.url === undefined ? undefined : reportTarget(e.url, baseUrl, own);
    return forwardToIngress({ baseUrl, source: e.source, url, body: e.body, headers, idempotencyKey: key, timeoutMs, attempts: 1 });
  });
}
