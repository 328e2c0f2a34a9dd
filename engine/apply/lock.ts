// The state lock: one writer of the config plane at a time. A lock whose holder is provably gone
// (same host and its pid is not running, or no heartbeat for `staleMs`) is taken over with a warning.

import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { LockInfo, StateLocker } from '../../state/config-plane.js';
import { EXIT, UserError } from '../errors.js';

export const HEARTBEAT_MS = 5_000;
/** No heartbeat for this long (four missed beats and then some) means the holder is gone. */
export const STALE_MS = 60_000;

export class LockError extends UserError {
  constructor(
    message: string,
    readonly holder: LockInfo | null,
  ) {
    super(message, EXIT.LOCKED);
    this.name = 'LockError';
  }
}

export interface LockOptions {
  operation: string;
  who: string;
  /** how long to keep retrying while someone else holds the lock (0 = one attempt) */
  timeoutMs: number;
  staleMs?: number;
  heartbeatMs?: number;
  warn?: (message: string) => void;
}

export interface HeldLock {
  info: LockInfo;
  release(): Promise<void>;
}

function ageOf(iso: string, now: number): number {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? Math.max(0, now - t) : Number.POSITIVE_INFINITY;
}

export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return 'unknown';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
  const h = Math.floor(s / 3600);
  return `${h}h${Math.floor((s % 3600) / 60)}m`;
}

export function describeLock(l: LockInfo, now = Date.now()): string {
  return [
    `  ID:        ${l.id}`,
    `  Operation: ${l.operation}`,
    `  Who:       ${l.who}`,
    `  Host:      ${l.host} (pid ${l.pid})`,
    `  Created:   ${l.created_at} (${formatAge(ageOf(l.created_at, now))} ago)`,
    `  Heartbeat: ${l.heartbeat_at} (${formatAge(ageOf(l.heartbeat_at, now))} ago)`,
  ].join('\n');
}

function pidRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why the holder is known to be gone, or null if it may still be working. */
export function deadLockReason(l: LockInfo, now = Date.now(), staleMs = STALE_MS): string | null {
  if (l.host === hostname() && l.pid !== process.pid && !pidRunning(l.pid)) {
    return `process ${l.pid} on ${l.host} is no longer running`;
  }
  const silent = ageOf(l.heartbeat_at, now);
  if (silent > staleMs) return `no heartbeat for ${formatAge(silent)}`;
  return null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function acquireLock(store: StateLocker, opts: LockOptions): Promise<HeldLock> {
  const staleMs = opts.staleMs ?? STALE_MS;
  const deadline = Date.now() + Math.max(0, opts.timeoutMs);
  const now = new Date().toISOString();
  const info: LockInfo = {
    id: randomUUID(),
    operation: opts.operation,
    who: opts.who,
    host: hostname(),
    pid: process.pid,
    created_at: now,
    heartbeat_at: now,
  };
  let delay = 100;
  for (;;) {
    const holder = await store.tryLock({ ...info, heartbeat_at: new Date().toISOString() });
    if (!holder) break;
    const dead = deadLockReason(holder, Date.now(), staleMs);
    if (dead) {
      if (await store.unlock(holder.id)) {
        opts.warn?.(`took over the state lock ${holder.id} held by ${holder.who} (${dead})`);
      }
      continue;
    }
    if (Date.now() >= deadline) {
      throw new LockError(
        `the state is locked by another operation, so it cannot be changed now:\n${describeLock(holder)}\n` +
          `Retry when it finishes (or wait longer with --lock-timeout). If that process is gone, run: orgloop force-unlock ${holder.id}`,
        holder,
      );
    }
    await sleep(Math.min(delay, Math.max(10, deadline - Date.now())));
    delay = Math.min(delay * 2, 1000);
  }

  let beating: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    beating = store.heartbeatLock(info.id).catch((err: Error) => opts.warn?.(`lock heartbeat failed: ${err.message}`));
  }, opts.heartbeatMs ?? HEARTBEAT_MS);
  timer.unref();
  let released = false;
  return {
    info,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await beating;
      await store.unlock(info.id);
    },
  };
}

export async function withLock<T>(store: StateLocker, opts: LockOptions, fn: (lock: HeldLock) => Promise<T>): Promise<T> {
  const lock = await acquireLock(store, opts);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}

/** `orgloop force-unlock ID`: removes the lock only if ID names the current holder. */
export async function forceUnlock(store: StateLocker, id: string): Promise<LockInfo> {
  const holder = await store.lockHolder();
  if (!holder) throw new UserError(`the state is not locked; nothing to unlock`);
  if (holder.id !== id) {
    throw new UserError(`lock ID ${id} does not match the current lock:\n${describeLock(holder)}`);
  }
  if (!(await store.unlock(id))) throw new UserError(`lock ${id} was released while unlocking`);
  return holder;
}
