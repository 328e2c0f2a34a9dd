// Errors a user can cause. The CLI prints them without a stack trace and exits with `exitCode`.

import type { Diagnostic } from './graph/types.js';

export const EXIT = {
  OK: 0,
  ERROR: 1,
  CHANGES: 2,
  LOCKED: 3,
  STALE_PLAN: 4,
} as const;

export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.ERROR,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** One or more config problems, each with a file:line:col position. */
export class ConfigError extends UserError {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'), EXIT.ERROR);
    this.name = 'ConfigError';
  }
}

/** A warning for a list that already says "Warning:" (the plan): position and message only. */
export function formatWarning(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.message}`;
}

export function formatDiagnostic(d: Diagnostic): string {
  const prefix = d.severity === 'warning' ? 'warning: ' : '';
  return `${d.file}:${d.line}:${d.col}: ${prefix}${d.message}`;
}
