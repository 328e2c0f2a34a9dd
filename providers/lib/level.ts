// Shared by the built-in loggers: level ordering and the `level` schema.

import type { LogEntry } from '../types.js';

export const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const RANK: Record<string, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export const levelSchema = { type: 'string', enum: [...LEVELS] };

/** True when `entry` is at or above `threshold`. */
export function atLeast(entry: LogEntry, threshold: string): boolean {
  return (RANK[entry.level] ?? 20) >= (RANK[threshold] ?? 20);
}
