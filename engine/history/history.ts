// The applied versions as an operator reads them: which one is current, which were undone by
// a rollback, and whether a new plan would bring back something that was rolled back.

import type { StateVersionInfo } from '../../state/config-plane.js';

export interface HistoryRow extends StateVersionInfo {
  current: boolean;
  /** serial of the rollback version that undid this one (the newest, if several) */
  rolled_back_by: number | null;
}

/**
 * A rollback R to version N undoes every version after N up to R's parent: those are the
 * versions "rolled back from". (A version can be undone again later; the newest R wins.)
 */
export function rolledBackBy(versions: StateVersionInfo[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of versions) {
    if (r.kind !== 'rollback' || r.rollback_of == null || r.parent_serial == null) continue;
    for (const v of versions) {
      if (v.serial > r.rollback_of && v.serial <= r.parent_serial) out.set(v.serial, r.serial);
    }
  }
  return out;
}

export function historyRows(versions: StateVersionInfo[], currentSerial: number): HistoryRow[] {
  const undone = rolledBackBy(versions);
  return versions.map((v) => ({ ...v, current: v.serial === currentSerial, rolled_back_by: undone.get(v.serial) ?? null }));
}

export function statusText(row: HistoryRow): string {
  const parts: string[] = [];
  if (row.current) parts.push('current');
  if (row.kind === 'rollback' && row.rollback_of != null) parts.push(`restores v${row.rollback_of}`);
  if (row.rolled_back_by !== null) parts.push(`rolled back by v${row.rolled_back_by}`);
  return parts.join(', ');
}

export function changeSummary(s: StateVersionInfo['summary']): string {
  return `+${s.add} ~${s.change} -${s.destroy}`;
}

export interface ReapplyWarning {
  /** the rolled-back version whose configuration the plan would restore */
  version: number;
  rolled_back_by: number;
  message: string;
}

/**
 * A plan whose resulting configuration equals (by config digest) a version that a rollback
 * undid re-applies exactly what was rolled back. Says so, naming both versions.
 */
export function reapplyWarning(versions: StateVersionInfo[], currentSerial: number, planDigest: string): ReapplyWarning | null {
  const current = versions.find((v) => v.serial === currentSerial);
  if (!current || current.config_digest === planDigest) return null;
  const undone = rolledBackBy(versions);
  const matches = versions.filter((v) => undone.has(v.serial) && v.config_digest === planDigest);
  const hit = matches[matches.length - 1];
  if (!hit) return null;
  const by = undone.get(hit.serial)!;
  return {
    version: hit.serial,
    rolled_back_by: by,
    message:
      `This plan re-applies the changes of version ${hit.serial}, which was rolled back by version ${by}. ` +
      `If that is intended, apply it; otherwise fix the configuration first (see \`orgloop history\` and \`orgloop diff --from ${by} --to ${hit.serial}\`).`,
  };
}
