// Executor settings: every knob of `orgloop start` in one object. cmd/ builds it from flags,
// ORGLOOP_* variables and the project's `defaults:` (cmd/settings.ts, which also documents each
// one in `start --help`) and hands it to the Executor; the engine reads no environment of its own.

import type { LogEntry } from '../../providers/types.js';
import { DEFAULT_LIMITS, type IngressLimits } from './connection-limits.js';
import { DEFAULT_RETRY_SCHEDULE_MS, type RetryPolicy } from './retry.js';

export interface ExecutorSettings extends IngressLimits {
  /** ingress port (0: any free port) */
  port: number;
  /** interface the ingress listens on */
  host: string;
  /** console level when the project declares no console logger */
  consoleLevel: LogEntry['level'];
  /** deliveries in flight at once */
  concurrency: number;
  /**
   * Deliveries leased at ingest that may wait here for a free slot beyond the running ones.
   * Peers cannot take them while this executor lives; 0 queues all overflow in the store.
   */
  prefetch: number;
  /**
   * Event bodies held in memory for deliveries that wait or run here, MB (JSON size). Past it,
   * bodies stay in the store until their delivery runs, and deliveries wait for room to run.
   */
  eventMemoryMb: number;
  /** delivery lease, renewed while the actor runs: how long a crashed worker's deliveries wait */
  leaseMs: number;
  /** how often idle workers look for work queued elsewhere or now due */
  claimPollMs: number;
  /** how often the serial is checked for a new apply */
  swapPollMs: number;
  /** how long shutdown waits for in-flight deliveries */
  shutdownGraceMs: number;
  /** shortest poll lease: how long a crashed poller's sources wait before another executor polls them */
  pollLeaseMs: number;
  /** old-generation growth between full GCs, percent (0: V8's own policy); see heap.ts */
  heapGrowthPercent: number;
  /** delays before each retry of a failed delivery, for routes without their own `delivery.retry` */
  retrySchedule: number[];
  /**
   * Set: exponential delays from this base (full jitter, up to backoffCapMs, 8 attempts) instead
   * of the schedule, executor-wide (the policy before schedules; tests use it to retry quickly).
   */
  backoffBaseMs: number | null;
  backoffCapMs: number;
  /** the executor's address as agents reach it ('' = the bound address; 127.0.0.1 for a wildcard bind) */
  publicUrl: string;
  /** names a Host header may carry on callbacks besides loopback names, IP addresses and public URLs */
  allowedHosts: string[];
  /** finished deliveries, their events and log rows older than this are pruned (DESIGN §4 Retention) */
  retentionMs: number;
}

export const DEFAULT_SETTINGS: Readonly<ExecutorSettings> = Object.freeze({
  port: 4800,
  host: '127.0.0.1',
  consoleLevel: 'info',
  concurrency: 64,
  prefetch: 4096,
  // 5 MB bodies behind a stalled actor measured ~18 MB each held (text, parsed event, the request
  // body each delivery renders and the garbage it leaves), against the 10 MB the budget counts:
  // 32 MB let three through and four concurrent senders peaked at 264-283 MB (issue 17 hole 3)
  eventMemoryMb: 16,
  leaseMs: 30_000,
  claimPollMs: 250,
  swapPollMs: 500,
  shutdownGraceMs: 5000,
  pollLeaseMs: 30_000,
  heapGrowthPercent: 50,
  retrySchedule: [...DEFAULT_RETRY_SCHEDULE_MS],
  backoffBaseMs: null,
  backoffCapMs: 5 * 60_000,
  publicUrl: '',
  allowedHosts: [],
  ...DEFAULT_LIMITS,
  retentionMs: 30 * 86_400_000,
});

/** The executor-wide retry policy the settings describe. */
export function retryPolicy(s: Pick<ExecutorSettings, 'retrySchedule' | 'backoffBaseMs' | 'backoffCapMs'>): RetryPolicy {
  if (s.backoffBaseMs === null) return { kind: 'schedule', delaysMs: s.retrySchedule };
  return { kind: 'exponential', baseMs: s.backoffBaseMs, capMs: Math.max(s.backoffBaseMs, s.backoffCapMs) };
}
