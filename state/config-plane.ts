// The config plane (DESIGN §4): applied versions, their prompt blobs and the apply lock.
// Written only by apply, rollback, import and state edits, each of which bumps the serial.
// Callers ask for the narrowest of these interfaces they need, as Terraform's state managers do.

import type { StateSnapshot } from './snapshot.js';

export type VersionKind = 'apply' | 'rollback' | 'import' | 'state-edit' | 'destroy';

export interface StateMeta {
  lineage: string;
  serial: number; // 0 = nothing applied yet
  format_version: number;
  /** per-lineage salt for secret hashes, so equal values hash equally across plans */
  secret_salt: string;
}

export interface VersionSummary {
  add: number;
  change: number;
  destroy: number;
}

export interface StateVersion {
  serial: number;
  parent_serial: number | null;
  kind: VersionKind;
  created_at: string;
  who: string;
  message: string | null;
  config_digest: string;
  summary: VersionSummary;
  /** for kind=rollback: the serial restored */
  rollback_of?: number | null;
  /** the git commit of the project directory it was applied from (null: not a git work tree, or not recorded) */
  git?: VersionGit | null;
  snapshot: StateSnapshot;
}

export interface VersionGit {
  commit: string;
  /** the work tree had uncommitted changes */
  dirty: boolean;
}

export type StateVersionInfo = Omit<StateVersion, 'snapshot'>;

/** What a writer supplies; the store assigns serial, parent and time. */
export interface NewVersion extends Pick<StateVersion, 'kind' | 'who' | 'message' | 'config_digest' | 'summary' | 'rollback_of' | 'git' | 'snapshot'> {
  /** the serial the writer planned against; the write fails with StaleSerialError if it moved */
  expectedSerial: number;
  /** prompt blobs referenced by the snapshot: sha256 -> text */
  blobs: Record<string, string>;
  /**
   * `state mv`: runtime rows to re-key in the same transaction, so a renamed source keeps its
   * cursor and events, a renamed route or actor its deliveries.
   */
  runtime_renames?: RuntimeRename[];
  /**
   * importVersion only (`state push`): the pushed state's secret salt, so the imported secret
   * hashes keep matching the values they were made from.
   */
  secret_salt?: string;
}

export interface RuntimeRename {
  kind: 'source' | 'route' | 'actor';
  from: string;
  to: string;
}

export interface LockInfo {
  id: string;
  operation: string;
  who: string;
  host: string;
  pid: number;
  created_at: string;
  heartbeat_at: string;
}

export class StaleSerialError extends Error {
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`state serial moved from ${expected} to ${actual}`);
  }
}

/** Reads applied state: plan, drift, history, the executor's loader. */
export interface StateReader {
  /** where the store is, for messages (a Postgres URL without its password) */
  readonly location: string;
  meta(): Promise<StateMeta>;
  current(): Promise<StateVersion | null>;
  version(serial: number): Promise<StateVersion | null>;
  versions(): Promise<StateVersionInfo[]>;
  blob(sha256: string): Promise<string | null>;
}

/** Writes a new applied version: apply, rollback, state edits and imports. */
export interface StateWriter {
  /** Writes serial+1 in one transaction; throws StaleSerialError if the serial moved. */
  writeVersion(v: NewVersion): Promise<StateVersionInfo>;
  /** Replace lineage/serial on import (state push --force / fresh store). */
  importVersion(lineage: string, v: NewVersion & { serial: number }): Promise<StateVersionInfo>;
}

/** The one apply lock of a store (DESIGN §4 Locking). */
export interface StateLocker {
  /** Returns null on success, or the current holder. */
  tryLock(lock: LockInfo): Promise<LockInfo | null>;
  heartbeatLock(id: string): Promise<void>;
  unlock(id: string): Promise<boolean>;
  lockHolder(): Promise<LockInfo | null>;
}

/** The refused import of a serial not above every stored one (both dialects). */
export function checkImportSerial(serial: number, top: number | null): void {
  if (top !== null && serial <= top) {
    throw new Error(`cannot import serial ${serial}: this store already holds versions up to ${top}; the imported serial must be higher`);
  }
}
