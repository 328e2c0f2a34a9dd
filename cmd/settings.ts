// The executor's settings, read once for `start` and `up`: a flag wins over its ORGLOOP_*
// variable, which wins over the project file's `defaults:`, which wins over the built-in default.
// This table is the one place where a setting's names and meaning are written: `start --help`
// is generated from it, and the engine gets the finished object (engine/run/settings.ts).

import { UserError } from '../engine/errors.js';
import { DEFAULT_SETTINGS, type ExecutorSettings } from '../engine/run/settings.js';
import { DEFAULT_RETRY_SCHEDULE } from '../engine/run/retry.js';
import { parseDuration } from '../providers/lib/duration.js';
import { LOG_LEVELS } from '../providers/lib/level.js';
import { parseSize } from '../providers/lib/size.js';

type Key = keyof ExecutorSettings;

interface Spec<K extends Key> {
  env: string;
  /** the command-line flag, as shown in help */
  flag?: string;
  /** the key under the project file's `defaults:` */
  yaml?: string;
  help: string;
  /** the value from a flag or variable (a string) or from YAML (already schema-checked); throws Error('expected ...') */
  parse(raw: unknown): ExecutorSettings[K];
  /** the built-in default as help shows it (default: as it is) */
  show?: () => string;
}

function int(min: number, unit = ''): (raw: unknown) => number {
  return (raw) => {
    const s = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
    if (!/^\d+$/.test(s) || Number(s) < min) throw new Error(`expected a whole number${unit ? ` of ${unit}` : ''}${min > 0 ? ` >= ${min}` : ''}`);
    return Number(s);
  };
}

export const SETTINGS: { [K in Key]: Spec<K> } = {
  port: {
    env: 'ORGLOOP_PORT',
    flag: '--port',
    yaml: 'port',
    help: 'ingress port; 0 picks a free one (several projects on one machine: one port each)',
    parse: (raw) => {
      const n = int(0)(raw);
      if (n > 65535) throw new Error('expected 0-65535');
      return n;
    },
  },
  host: {
    env: 'ORGLOOP_HOST',
    flag: '--host',
    help: 'interface the ingress listens on',
    parse: (raw) => {
      if (typeof raw !== 'string' || !raw.trim()) throw new Error('expected a host name or address');
      return raw.trim();
    },
  },
  consoleLevel: {
    env: 'ORGLOOP_LOG_LEVEL',
    flag: '--log-level (-q = warn, -v = debug)',
    yaml: 'log_level',
    help: 'console level when the project declares no console logger',
    parse: (raw) => {
      const v = typeof raw === 'string' ? raw.trim() : raw;
      if (!LOG_LEVELS.includes(v as (typeof LOG_LEVELS)[number])) throw new Error(`expected one of ${LOG_LEVELS.join(', ')}`);
      return v as ExecutorSettings['consoleLevel'];
    },
  },
  concurrency: { env: 'ORGLOOP_CONCURRENCY', flag: '--concurrency', yaml: 'concurrency', help: 'deliveries in flight at once', parse: int(1) },
  prefetch: {
    env: 'ORGLOOP_PREFETCH',
    flag: '--prefetch',
    yaml: 'prefetch',
    help:
      'deliveries leased at ingest that may wait here for a free slot, beyond those in flight. Peers cannot ' +
      'take them while this executor lives: lower it when several executors share a store and actors are ' +
      'slow; 0 queues all overflow in the store for whichever executor claims first',
    parse: int(0),
  },
  eventMemoryMb: {
    env: 'ORGLOOP_EVENT_MEMORY_MB',
    yaml: 'event_memory_mb',
    help:
      'event bodies held in memory by deliveries waiting or running here, MB of JSON. Past it, bodies ' +
      'stay in the store until their delivery runs and deliveries wait for room, so a backlog of large ' +
      'events costs this much memory, not its size (one event larger than this still runs, alone)',
    parse: int(1, 'MB'),
  },
  leaseMs: { env: 'ORGLOOP_LEASE_MS', help: 'delivery lease in ms, renewed while the actor runs: how long a crashed executor\'s deliveries wait before they are retried', parse: int(1, 'ms') },
  claimPollMs: { env: 'ORGLOOP_CLAIM_POLL_MS', help: 'how often idle workers look for due work, ms', parse: int(1, 'ms') },
  swapPollMs: { env: 'ORGLOOP_SWAP_POLL_MS', help: 'how often a new apply is looked for, ms', parse: int(1, 'ms') },
  shutdownGraceMs: { env: 'ORGLOOP_SHUTDOWN_GRACE_MS', help: 'how long shutdown waits for in-flight deliveries, ms', parse: int(0, 'ms') },
  pollLeaseMs: {
    env: 'ORGLOOP_POLL_LEASE_MS',
    help: 'shortest poll lease in ms (at least 3 x the poll interval is used): how long a crashed poller\'s sources wait before another executor polls them',
    parse: int(1000, 'ms'),
  },
  heapGrowthPercent: {
    env: 'ORGLOOP_HEAP_GROWTH_PERCENT',
    help: "old-generation growth between full GCs, percent; 0 = V8's own policy, which lets the heap grow up to 4x its live size",
    parse: int(0),
  },
  retrySchedule: {
    env: 'ORGLOOP_RETRY_SCHEDULE',
    yaml: 'retry',
    help:
      'delays before each retry of a failed delivery (a route\'s delivery.retry wins), each moved +-20% at ' +
      'random; a delivery is dead after one attempt more than there are delays (or delivery.max_attempts). ' +
      'A variable lists them with commas',
    parse: (raw) => {
      const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',').map((d) => d.trim()) : [];
      if (list.length === 0 || list.some((d) => typeof d !== 'string' || !d)) throw new Error('expected durations such as 5s,5m,30m');
      return list.map((d) => {
        const ms = parseDuration(d as string);
        if (ms <= 0) throw new Error(`a retry delay must be greater than zero, got ${JSON.stringify(d)}`);
        return ms;
      });
    },
    show: () => DEFAULT_RETRY_SCHEDULE.join(','),
  },
  backoffBaseMs: {
    env: 'ORGLOOP_BACKOFF_BASE_MS',
    help: 'set: exponential retry delays from this base in ms instead of the schedule (full jitter, doubling per attempt, 8 attempts), for routes without their own',
    parse: int(0, 'ms'),
    show: () => 'unset',
  },
  backoffCapMs: {
    env: 'ORGLOOP_BACKOFF_CAP_MS',
    help: "cap of exponential delays in ms, these and a route's delivery.backoff (never below the base)",
    parse: int(1, 'ms'),
  },
  publicUrl: {
    env: 'ORGLOOP_PUBLIC_URL',
    flag: '--public-url',
    help: 'the address agents call back on (<url>/callback/<actor>); empty: the bound address',
    parse: (raw) => {
      const v = typeof raw === 'string' ? raw.trim() : '';
      if (v === '') return '';
      let u: URL;
      try {
        u = new URL(v);
      } catch {
        throw new Error('expected an http(s) URL');
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('expected an http(s) URL');
      return v.replace(/\/+$/, '');
    },
  },
  allowedHosts: {
    env: 'ORGLOOP_ALLOWED_HOSTS',
    flag: '--allowed-host',
    help: 'more names allowed in Host on callbacks, comma-separated (loopback, IPs and public URLs always are)',
    parse: (raw) => {
      const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : null;
      if (!list || list.some((h) => typeof h !== 'string')) throw new Error('expected host names, comma-separated');
      return (list as string[]).map((h) => h.trim()).filter(Boolean);
    },
  },
  headersTimeoutMs: { env: 'ORGLOOP_HEADERS_TIMEOUT_MS', help: 'request line and headers must arrive within this, ms', parse: int(1, 'ms') },
  requestTimeoutMs: { env: 'ORGLOOP_REQUEST_TIMEOUT_MS', help: 'a whole request, body included, must arrive within this, ms', parse: int(1, 'ms') },
  idleTimeoutMs: { env: 'ORGLOOP_IDLE_TIMEOUT_MS', help: 'a connection with no traffic is closed after this, ms', parse: int(1, 'ms') },
  maxConnections: {
    env: 'ORGLOOP_MAX_CONNECTIONS',
    help: 'open connections at most; past it the oldest one not being answered is closed',
    parse: int(1),
  },
  ingestBudgetBytes: {
    env: 'ORGLOOP_INGEST_BUDGET',
    help: 'memory for parsing and storing request bodies at once (a body counts 5x its size; a larger one goes alone); others wait, already read',
    parse: (raw) => {
      const n = parseSize(raw as string);
      if (n < 1024) throw new Error('expected at least 1KB');
      return n;
    },
  },
  bodyBudgetBytes: {
    env: 'ORGLOOP_BODY_BUDGET',
    help: 'bytes of request bodies read at once over all requests; others wait',
    parse: (raw) => {
      const n = parseSize(raw as string);
      if (n < 1024) throw new Error('expected at least 1KB');
      return n;
    },
  },
  retentionMs: {
    env: 'ORGLOOP_EVENT_RETENTION',
    yaml: 'event_retention',
    help: 'how long finished deliveries, their events and log rows are kept, as a duration (30d, 12h); pending work is never pruned',
    parse: (raw) => {
      const ms = parseDuration(String(raw));
      if (!(ms >= 1000)) throw new Error('expected a duration of at least 1s');
      return ms;
    },
  },
};

export interface SettingsSources {
  /** values given on the command line, by setting */
  flags: Partial<Record<Key, string>>;
  env: NodeJS.ProcessEnv;
  /** the project file's `defaults:` (null without a project file) */
  defaults: { values: Record<string, unknown>; where(key: string): string } | null;
}

/** The settings, each from the first of flag, variable, project default, built-in default that gives it. */
export function readSettings(from: SettingsSources): ExecutorSettings {
  const out: ExecutorSettings = { ...DEFAULT_SETTINGS };
  for (const key of Object.keys(SETTINGS) as Key[]) set(out, key, SETTINGS[key], from);
  return out;
}

function set<K extends Key>(out: ExecutorSettings, key: K, spec: Spec<K>, from: SettingsSources): void {
  const flag = from.flags[key];
  const env = from.env[spec.env];
  const yaml = spec.yaml && from.defaults ? from.defaults.values[spec.yaml] : undefined;
  let raw: unknown;
  let origin: string;
  if (flag !== undefined) [raw, origin] = [flag, `${spec.flag!.split(' ')[0]} ${JSON.stringify(flag)}`];
  else if (env !== undefined && env !== '') [raw, origin] = [env, `${spec.env}=${JSON.stringify(env)}`];
  else if (yaml !== undefined) [raw, origin] = [yaml, `${from.defaults!.where(spec.yaml!)}: defaults.${spec.yaml} ${JSON.stringify(yaml)}`];
  else return;
  try {
    out[key] = spec.parse(raw);
  } catch (err) {
    throw new UserError(`invalid ${origin}: ${(err as Error).message}`);
  }
}

/** The settings block of `start --help`. */
export function settingsHelp(width = 100): string {
  const lines = ['Settings (a flag wins over its variable, which wins over the project file\'s `defaults:`):'];
  for (const key of Object.keys(SETTINGS) as Key[]) {
    const s = SETTINGS[key];
    lines.push('  ' + [s.flag, s.env, s.yaml && `defaults.${s.yaml}`].filter(Boolean).join(', '));
    // "(default X)" is kept on one line (a no-break space while wrapping)
    lines.push(...wrap(`${s.help} (default\u00a0${s.show ? s.show() : String(DEFAULT_SETTINGS[key])})`, width - 6).map((l) => '      ' + l.replace(/\u00a0/g, ' ')));
  }
  return lines.join('\n');
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}
