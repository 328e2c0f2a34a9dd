// Logger `file`: JSON Lines at `path` (relative to the project), entries at or above `level`
// (default debug). Size rotation: when the file would exceed `max_size` (default 10MB) it becomes
// `<path>.1` (older ones shift to .2 ... up to `max_files`, default 5, the oldest is removed).
// `path` may start with `~` (the home directory), as OrgLoop's configs write it.
// OrgLoop's `rotation` (or `rotate`): { max_size, max_age, max_files, compress }` is accepted too: `compress` gzips rotated
// files (`<path>.1.gz`), `max_age` removes rotated files older than that.
// Lines are buffered and written together once per event-loop turn, so a burst costs one write
// (OrgLoop's `buffer: { size, flush_interval }` is accepted: ours never waits longer than that).

import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { LogEntry, LoggerProvider, LoggerSink } from '../types.js';
import { durationIssue, parseDuration } from '../lib/duration.js';
import { atLeast, levelSchema } from '../lib/level.js';
import { parseSize, sizeIssue } from '../lib/size.js';

export const DEFAULT_MAX_SIZE = 10 * 1024 * 1024;
export const DEFAULT_MAX_FILES = 5;

export interface FileLogSettings {
  path: string;
  level: string;
  maxSize: number;
  maxFiles: number;
  maxAgeMs?: number;
  compress: boolean;
}

/** `~` and `~/...` mean the home directory (OrgLoop's configs write `~/.orgloop/logs/...`). */
export function expandHome(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return path;
}

export function fileLogSettings(config: Record<string, unknown>, projectDir: string): FileLogSettings {
  const rotation = (config.rotation ?? config.rotate ?? {}) as Record<string, unknown>;
  const maxSize = config.max_size ?? rotation.max_size;
  const maxAge = rotation.max_age ?? config.max_age;
  const s: FileLogSettings = {
    path: resolve(projectDir, expandHome(String(config.path))),
    level: (config.level as string | undefined) ?? 'debug',
    maxSize: maxSize === undefined ? DEFAULT_MAX_SIZE : parseSize(maxSize as string),
    maxFiles: (config.max_files ?? rotation.max_files ?? DEFAULT_MAX_FILES) as number,
    compress: Boolean(rotation.compress ?? config.compress ?? false),
  };
  if (maxAge !== undefined) s.maxAgeMs = parseDuration(maxAge as string);
  return s;
}

function rotatedName(path: string, n: number, compress: boolean): string {
  return `${path}.${n}${compress ? '.gz' : ''}`;
}

function removeIfExists(p: string): void {
  try {
    unlinkSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Removes rotated files (`<path>.N[.gz]`) older than maxAgeMs. */
function pruneByAge(s: FileLogSettings, now: number): void {
  if (s.maxAgeMs === undefined) return;
  const dir = dirname(s.path);
  const base = basename(s.path);
  const rotated = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\d+(\\.gz)?$`);
  for (const f of readdirSync(dir)) {
    if (!rotated.test(f)) continue;
    const full = join(dir, f);
    if (now - statSync(full).mtimeMs > s.maxAgeMs) removeIfExists(full);
  }
}

/** Shifts rotated files up by one and moves the active file to `.1` (gzipped when compress). */
export function rotateFile(s: FileLogSettings): void {
  if (s.maxFiles <= 0) {
    removeIfExists(s.path);
    return;
  }
  for (const c of [false, true]) removeIfExists(rotatedName(s.path, s.maxFiles, c));
  for (let n = s.maxFiles - 1; n >= 1; n--) {
    for (const c of [false, true]) {
      const from = rotatedName(s.path, n, c);
      if (existsSync(from)) renameSync(from, rotatedName(s.path, n + 1, c));
    }
  }
  if (!existsSync(s.path)) return;
  if (s.compress) {
    // Written under a temp name then renamed, so a crash never leaves a half-written .gz.
    const tmp = `${rotatedName(s.path, 1, true)}.tmp`;
    writeFileSync(tmp, gzipSync(readFileSync(s.path)));
    renameSync(tmp, rotatedName(s.path, 1, true));
    unlinkSync(s.path);
  } else {
    renameSync(s.path, rotatedName(s.path, 1, false));
  }
  pruneByAge(s, Date.now());
}

export function createFileSink(s: FileLogSettings): LoggerSink {
  mkdirSync(dirname(s.path), { recursive: true });
  pruneByAge(s, Date.now());
  let fd = openSync(s.path, 'a');
  let size = statSync(s.path).size;
  let pending: string[] = [];
  let scheduled: NodeJS.Immediate | null = null;
  let closed = false;

  const flush = () => {
    scheduled = null;
    if (pending.length === 0) return;
    const lines = pending;
    pending = [];
    for (const line of lines) {
      const bytes = Buffer.byteLength(line);
      if (size > 0 && size + bytes > s.maxSize) {
        closeSync(fd);
        rotateFile(s);
        fd = openSync(s.path, 'a');
        size = 0;
      }
      // Coalescing lines between rotations would save syscalls, but rotation must fall on line
      // boundaries; per-line writes keep that simple and are cheap (no fsync).
      writeSync(fd, line);
      size += bytes;
    }
  };

  return {
    log(entry: LogEntry) {
      if (closed || !atLeast(entry, s.level)) return;
      pending.push(`${JSON.stringify(entry)}\n`);
      if (!scheduled) scheduled = setImmediate(flush);
    },
    async close() {
      if (closed) return;
      if (scheduled) clearImmediate(scheduled);
      flush();
      closed = true;
      closeSync(fd);
    },
  };
}

const sizeSchema = { type: ['string', 'integer'], description: 'e.g. 10MB' };

const ROTATION_SCHEMA = {
  type: 'object',
  additionalProperties: true,
  properties: {
    max_size: sizeSchema,
    max_files: { type: 'integer', minimum: 0 },
    max_age: { type: 'string', description: 'remove rotated files older than this, e.g. 7d' },
    compress: { type: 'boolean', description: 'gzip rotated files' },
  },
};

export const fileLogger: LoggerProvider = {
  kind: 'logger',
  name: 'file',
  description: 'Appends log entries as JSON Lines to a file, with size rotation.',
  configSchema: {
    type: 'object',
    additionalProperties: true,
    required: ['path'],
    properties: {
      path: { type: 'string', minLength: 1, description: 'relative to the project; ~ is the home directory' },
      format: { enum: ['jsonl'], description: 'JSON Lines (the only format)' },
      level: { ...levelSchema, default: 'debug' },
      max_size: { ...sizeSchema, description: 'rotate when larger (default 10MB)' },
      max_files: { type: 'integer', minimum: 0, default: DEFAULT_MAX_FILES, description: 'rotated files kept' },
      rotation: ROTATION_SCHEMA,
      rotate: { ...ROTATION_SCHEMA, description: 'same as rotation' },
      buffer: {
        type: 'object',
        additionalProperties: false,
        description: 'OrgLoop\'s write buffer: lines are always buffered, and written once per event-loop turn, sooner than size or flush_interval would',
        properties: { size: { type: 'integer', minimum: 1 }, flush_interval: { type: 'string' } },
      },
    },
  },
  replaceOn: ['path'],
  validate(config) {
    const issues: Array<{ path: string; message: string }> = [];
    const written = config.rotation ?? config.rotate;
    const rotation = (written && typeof written === 'object' ? written : {}) as Record<string, unknown>;
    for (const [obj, base] of [
      [config, ''],
      [rotation, 'rotation.'],
    ] as const) {
      const sz = sizeIssue(obj, 'max_size', `${base}max_size`);
      if (sz) issues.push(sz);
    }
    const age = durationIssue(rotation, 'max_age', 'rotation.max_age');
    if (age) issues.push(age);
    if (config.max_size !== undefined && rotation.max_size !== undefined) {
      issues.push({ path: 'rotation.max_size', message: 'set max_size either at the top level or under rotation, not both' });
    }
    return issues;
  },
  open(ctx) {
    return createFileSink(fileLogSettings(ctx.config, ctx.projectDir));
  },
};
