// Row shapes and SQL fragments both backends share: the SQL is the same text in SQLite and
// Postgres, so the mapping from rows to Store values lives here once.

import type { NewVersion, StateVersion, StateVersionInfo } from './config-plane.js';
import type { StateSnapshot } from './snapshot.js';

export interface VersionRow {
  serial: number;
  parent_serial: number | null;
  kind: StateVersion['kind'];
  created_at: string;
  who: string;
  message: string | null;
  config_digest: string;
  summary: string;
  rollback_of: number | null;
  git_commit: string | null;
  git_dirty: number | null;
  snapshot?: string;
}

export const INFO_COLUMNS = 'serial, parent_serial, kind, created_at, who, message, config_digest, summary, rollback_of, git_commit, git_dirty';

export function toInfo(r: VersionRow): StateVersionInfo {
  return {
    serial: r.serial,
    parent_serial: r.parent_serial,
    kind: r.kind,
    created_at: r.created_at,
    who: r.who,
    message: r.message,
    config_digest: r.config_digest,
    summary: JSON.parse(r.summary) as StateVersionInfo['summary'],
    rollback_of: r.rollback_of,
    git: r.git_commit ? { commit: r.git_commit, dirty: !!Number(r.git_dirty) } : null,
  };
}

/** The version row a write of `v` at `serial` creates. */
export function versionInfo(serial: number, parent: number | null, v: NewVersion, createdAt: string): StateVersionInfo {
  return {
    serial,
    parent_serial: parent,
    kind: v.kind,
    created_at: createdAt,
    who: v.who,
    message: v.message,
    config_digest: v.config_digest,
    summary: v.summary,
    rollback_of: v.rollback_of ?? null,
    git: v.git ?? null,
  };
}

/** Values for `INSERT INTO state_versions (${INFO_COLUMNS}, snapshot)`, in that column order. */
export function versionRowValues(info: StateVersionInfo, snapshot: StateSnapshot): Array<string | number | null> {
  return [
    info.serial,
    info.parent_serial,
    info.kind,
    info.created_at,
    info.who,
    info.message,
    info.config_digest,
    JSON.stringify(info.summary),
    info.rollback_of ?? null,
    info.git?.commit ?? null,
    info.git ? (info.git.dirty ? 1 : 0) : null,
    JSON.stringify(snapshot),
  ];
}

/** A version row read with its snapshot. */
export function toVersion(r: VersionRow): StateVersion {
  return { ...toInfo(r), snapshot: JSON.parse(r.snapshot!) as StateSnapshot };
}

export function limitClause(limit: number | undefined): string {
  return limit === undefined ? '' : `LIMIT ${Math.max(0, Math.floor(limit))}`;
}
