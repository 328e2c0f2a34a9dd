// The daemon's log, kept to a bounded size: orgloop.log plus at most `keep` rotated copies
// (orgloop.log.1 newest ... orgloop.log.N oldest), each about `maxBytes`.
//
// The executor's stdout and stderr are a descriptor on the log opened for appending, by
// `start --daemon` or by systemd / launchd, which the executor cannot reopen. So rotation copies
// and truncates (logrotate's copytruncate): writers opened with O_APPEND carry on at the new end.
// Lines written between the copy and the truncate are lost; checks every few seconds keep that
// window to one copy's duration.

import { copyFileSync, existsSync, renameSync, rmSync, statSync, truncateSync } from 'node:fs';

export interface RotateOptions {
  maxBytes: number;
  keep: number;
}

export const DEFAULT_ROTATE: RotateOptions = { maxBytes: 10 * 1024 * 1024, keep: 5 };

/** Rotates `file` when it has grown past maxBytes; true when it did. */
export function rotateLog(file: string, o: RotateOptions): boolean {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return false;
  }
  if (size <= o.maxBytes) return false;
  if (o.keep <= 0) {
    truncateSync(file, 0);
    return true;
  }
  rmSync(`${file}.${o.keep}`, { force: true });
  for (let i = o.keep - 1; i >= 1; i--) if (existsSync(`${file}.${i}`)) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
  copyFileSync(file, `${file}.1`);
  truncateSync(file, 0);
  return true;
}

/** Rotation settings from ORGLOOP_LOG_MAX_BYTES (bytes, or 10MB / 512KB) and ORGLOOP_LOG_KEEP. */
export function rotateOptions(env: NodeJS.ProcessEnv): RotateOptions {
  const size = env.ORGLOOP_LOG_MAX_BYTES?.trim();
  const keep = env.ORGLOOP_LOG_KEEP?.trim();
  const o = { ...DEFAULT_ROTATE };
  if (size) {
    const m = /^(\d+)\s*(b|kb|k|mb|m|gb|g)?$/i.exec(size);
    if (!m || Number(m[1]) <= 0) throw new Error(`ORGLOOP_LOG_MAX_BYTES must be a size like 10MB, 512KB or 1048576 (got "${size}")`);
    const unit = (m[2] ?? 'b').toLowerCase()[0]!;
    o.maxBytes = Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1);
  }
  if (keep) {
    if (!/^\d+$/.test(keep)) throw new Error(`ORGLOOP_LOG_KEEP must be a whole number of rotated files to keep (got "${keep}")`);
    o.keep = Number(keep);
  }
  return o;
}

/** Checks the log every `everyMs` for as long as the process runs (the timer does not hold it open). */
export function watchLog(file: string, o: RotateOptions, everyMs = 5000): () => void {
  const t = setInterval(() => {
    try {
      rotateLog(file, o);
    } catch {
      // a full disk or a removed directory: the next check tries again
    }
  }, everyMs);
  t.unref();
  return () => clearInterval(t);
}
