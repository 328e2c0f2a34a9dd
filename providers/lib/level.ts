// Log levels: their order (the one ranking the loggers, the log bus and the executor's console
// all use) and the `level` schema.

import type { LogEntry } from '../types.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const RANK: Record<string, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export const levelSchema = { type: 'string', enum: [...LOG_LEVELS] };

/** The rank of a level name; an unknown name ranks as info. */
export function levelRank(level: string): number {
  return RANK[level] ?? 20;
}

/** True when `entry` is at or above `threshold`. */
export function atLeast(entry: LogEntry, threshold: string): boolean {
  return levelRank(entry.level) >= levelRank(threshold);
}
