// The poll window the polling sources share: `initial_lookback`, how far back the first poll
// looks (zero, the default, starts now without replaying history), and `overlap`, how far each
// later poll re-reads behind its cursor (above zero). One schema entry and one check for both.

import { durationIssue } from './duration.js';

export const INITIAL_LOOKBACK_PROPERTY = { type: 'string', description: 'how far back the first poll looks (default 0: start now)' };

/** Issues with `overlap` and `initial_lookback` (a source without an overlap simply has none set). */
export function pollWindowIssues(config: Record<string, unknown>): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  const overlap = durationIssue(config, 'overlap');
  if (overlap) issues.push(overlap);
  const lookback = durationIssue(config, 'initial_lookback', 'initial_lookback', { zero: true });
  if (lookback) issues.push(lookback);
  return issues;
}
