// Source `cron`: fires on a cron `schedule` (cron-parser, optional `timezone`) or `every` duration.
// `every` ticks are aligned to the Unix epoch, so fire times are the same across restarts.
// OrgLoop's shape, `schedules: [{ name, cron, payload }]`, is several schedules in one source:
// `cron` is a cron expression or an interval (`every 5m`, `5m`), expressions are read in the
// machine's local time as OrgLoop does (unless `timezone` is set), and each fire is an event
// with platform_event `schedule.<name>` and payload { schedule, interval_ms?, ...payload }.
// The executor stores the last fire time; dedupe_key is the scheduled time (ISO) so a restart
// never doubles a tick. In OrgLoop's shape a source with no last fire time yet (its first start
// against this store) also fires every schedule once at start, as OrgLoop's does on its first
// poll with no checkpoint: an interval always, an expression if it matched in the past 366 days.

import { CronExpressionParser } from 'cron-parser';
import type { EmittedEvent, ProviderContext, SourceProvider } from '../types.js';
import { parseDuration } from '../lib/duration.js';

interface CompiledCron {
  schedule?: string;
  tz?: string;
  everyMs?: number;
  /** OrgLoop's `schedules` list */
  named?: Array<{ name: string; payload: Record<string, unknown> } & CompiledCron>;
}

const INTERVAL = /^(?:every\s+)?(\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)(?:\s*\d+(?:\.\d+)?\s*(?:ms|s|m|h|d))*)$/i;

/** `every 5m` / `5m` -> milliseconds; null when `expr` is not an interval (a cron expression). */
export function intervalMs(expr: string): number | null {
  const m = INTERVAL.exec(expr.trim());
  if (!m) return null;
  return parseDuration(m[1]!.replace(/\s+/g, ''));
}

const localTimezone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

const compiledByConfig = new WeakMap<object, CompiledCron>();

function compile(config: Record<string, unknown>): CompiledCron {
  let c = compiledByConfig.get(config);
  if (!c) {
    c = {};
    if (typeof config.schedule === 'string') c.schedule = config.schedule;
    if (typeof config.timezone === 'string') c.tz = config.timezone;
    if (config.every !== undefined) c.everyMs = parseDuration(config.every as string);
    if (Array.isArray(config.schedules)) {
      const tz = c.tz ?? localTimezone();
      c.named = config.schedules.filter(isObject).map((s) => {
        const every = intervalMs(String(s.cron));
        return { name: String(s.name), payload: isObject(s.payload) ? s.payload : {}, ...(every === null ? { schedule: String(s.cron), tz } : { everyMs: every }) };
      });
    }
    compiledByConfig.set(config, c);
  }
  return c;
}

/** Verdicts per (timezone, expression): a project repeats a few schedules over many sources. */
const expressionVerdicts = new Map<string, string | null>();

/** Checks a cron expression (5 or 6 fields, or an @alias); returns an error message or null. */
export function cronExpressionError(expr: string, tz?: string): string | null {
  const key = `${tz ?? ''}\n${expr}`;
  let verdict = expressionVerdicts.get(key);
  if (verdict === undefined) {
    verdict = checkExpression(expr, tz);
    if (expressionVerdicts.size >= 1000) expressionVerdicts.clear();
    expressionVerdicts.set(key, verdict);
  }
  return verdict;
}

function checkExpression(expr: string, tz?: string): string | null {
  const trimmed = expr.trim();
  const fields = trimmed.split(/\s+/).length;
  if (!trimmed.startsWith('@') && (fields < 5 || fields > 6)) {
    return `invalid cron expression ${JSON.stringify(expr)}: expected 5 fields (minute hour day month weekday) or 6 with seconds`;
  }
  try {
    CronExpressionParser.parse(trimmed, tz ? { tz } : {});
    return null;
  } catch (err) {
    return `invalid cron expression ${JSON.stringify(expr)}: ${(err as Error).message}`;
  }
}

/** The default floor for how often a cron source fires: each fire is an event kept for the retention period. */
export const CRON_FLOOR_MS = 60_000;

/** Gaps per (timezone, expression), like expressionVerdicts. */
const gapsByExpression = new Map<string, number>();

/**
 * Shortest gap between the next fires of a (valid) cron expression: seconds fields can make it
 * tiny. Sampling fires costs about a millisecond (luxon date arithmetic), so it is skipped when
 * the answer cannot matter: an expression whose seconds field is one value (five fields, or six
 * with a plain number first) fires at most once a minute, so no floor of a minute or less can
 * warn about it. That is every expression of most projects, which may hold thousands.
 */
function shortestGapMs(expr: string, tz: string | undefined, floorMs: number): number {
  const trimmed = expr.trim();
  const fields = trimmed.split(/\s+/);
  const oncePerMinuteAtMost = !trimmed.startsWith('@') && (fields.length === 5 || /^\d+$/.test(fields[0]!));
  if (oncePerMinuteAtMost && floorMs <= 60_000) return 60_000;
  const key = `${tz ?? ''}\n${trimmed}`;
  let min = gapsByExpression.get(key);
  if (min === undefined) {
    const it = CronExpressionParser.parse(trimmed, { currentDate: new Date(Date.UTC(2030, 0, 1)), ...(tz ? { tz } : {}) });
    let prev = it.next().getTime();
    min = Infinity;
    for (let i = 0; i < 20; i++) {
      const t = it.next().getTime();
      min = Math.min(min, t - prev);
      prev = t;
    }
    if (gapsByExpression.size >= 1000) gapsByExpression.clear();
    gapsByExpression.set(key, min);
  }
  return min;
}

const human = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

/**
 * A warning when a schedule fires more often than the source's floor (`min_interval`, default
 * 1m): every fire is stored as an event until retention prunes it, so a cron every second is
 * 86,400 events a day. Raising the floor deliberately (min_interval: 1s) silences it.
 */
function floorWarning(everyMs: number, floorMs: number): string | null {
  if (everyMs >= floorMs) return null;
  const perDay = Math.round(86_400_000 / everyMs).toLocaleString('en-US');
  return `fires every ${human(everyMs)} (${perDay} events a day, each stored until defaults.event_retention prunes it), more often than the ${human(floorMs)} floor; set min_interval: ${human(everyMs)} on this source if you mean it`;
}

export function timezoneError(tz: string): string | null {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return null;
  } catch {
    return `unknown timezone ${JSON.stringify(tz)} (use an IANA name like Europe/Berlin or UTC)`;
  }
}

/** Next fire strictly after `after`, or null when the schedule has no further occurrence. */
export function nextCronFire(config: Record<string, unknown>, after: Date): Date | null {
  const c = compile(config);
  if (c.named) {
    let next: Date | null = null;
    for (const s of c.named) {
      const t = nextOf(s, after);
      if (t && (!next || t.getTime() < next.getTime())) next = t;
    }
    return next;
  }
  return nextOf(c, after);
}

function nextOf(c: CompiledCron, after: Date): Date | null {
  if (c.everyMs !== undefined) {
    const t = after.getTime();
    return new Date((Math.floor(t / c.everyMs) + 1) * c.everyMs);
  }
  if (c.schedule === undefined) return null;
  const expr = CronExpressionParser.parse(c.schedule.trim(), { currentDate: after, ...(c.tz ? { tz: c.tz } : {}) });
  if (!expr.hasNext()) return null;
  return expr.next().toDate();
}

/** The events a fire at `at` produces: one per schedule due then (OrgLoop's `schedules`), or one. */
export function cronEvents(config: Record<string, unknown>, at: Date): EmittedEvent[] {
  const c = compile(config);
  if (!c.named) return [cronEvent(config, at)];
  const scheduledAt = at.toISOString();
  const out: EmittedEvent[] = [];
  for (const s of c.named) {
    // due at `at` when its next fire after the instant before is `at`
    const t = nextOf(s, new Date(at.getTime() - 1));
    if (!t || t.getTime() !== at.getTime()) continue;
    out.push({
      type: 'resource.changed',
      provenance: { platform: 'cron', platform_event: `schedule.${s.name}`, author_type: 'system' },
      payload: { schedule: s.name, ...(s.everyMs !== undefined ? { interval_ms: s.everyMs } : {}), ...s.payload, scheduled_at: scheduledAt },
      dedupe_key: `${s.name}@${scheduledAt}`,
      time: scheduledAt,
    });
  }
  return out;
}

/** How far back OrgLoop looks for a past match of an expression on its first poll. */
const FIRST_START_LOOKBACK_MS = 366 * 86_400_000;

/**
 * OrgLoop's first-start fire: one event per schedule of a `schedules` source that has never
 * fired against this store. `first_start: wait` turns it off (a cluster-up/cluster-down pair
 * should not both fire at once); `first_start: fire` turns it on for our single-schedule shape,
 * which OrgLoop does not have and which otherwise waits for its next tick.
 * The dedupe key names the first start, not a time, so executors starting together (each with
 * its own clock) or a restart before the start was recorded cannot make a second one.
 */
export function firstStartCronEvents(config: Record<string, unknown>, at: Date): EmittedEvent[] {
  const c = compile(config);
  const mode = config.first_start ?? (c.named ? 'fire' : 'wait');
  if (mode !== 'fire') return [];
  const scheduledAt = at.toISOString();
  if (!c.named) {
    const e = cronEvent(config, at);
    return [{ ...e, payload: { ...e.payload, first_start: true }, dedupe_key: 'first-start' }];
  }
  const out: EmittedEvent[] = [];
  for (const s of c.named) {
    if (s.everyMs === undefined && !matchedSince(s, at)) continue;
    out.push({
      type: 'resource.changed',
      provenance: { platform: 'cron', platform_event: `schedule.${s.name}`, author_type: 'system' },
      payload: { schedule: s.name, ...(s.everyMs !== undefined ? { interval_ms: s.everyMs } : {}), ...s.payload, scheduled_at: scheduledAt, first_start: true },
      dedupe_key: `${s.name}@first-start`,
      time: scheduledAt,
    });
  }
  return out;
}

function matchedSince(c: CompiledCron, at: Date): boolean {
  if (c.schedule === undefined) return false;
  const expr = CronExpressionParser.parse(c.schedule.trim(), { currentDate: new Date(at.getTime() + 1), ...(c.tz ? { tz: c.tz } : {}) });
  if (!expr.hasPrev()) return false;
  return expr.prev().getTime() >= at.getTime() - FIRST_START_LOOKBACK_MS;
}

export function cronEvent(config: Record<string, unknown>, at: Date): EmittedEvent {
  const scheduledAt = at.toISOString();
  const base = config.payload && typeof config.payload === 'object' && !Array.isArray(config.payload) ? (config.payload as Record<string, unknown>) : {};
  return {
    type: 'resource.changed',
    provenance: { platform: 'cron', platform_event: 'cron.fired', author_type: 'system' },
    payload: { ...base, scheduled_at: scheduledAt },
    dedupe_key: scheduledAt,
    time: scheduledAt,
  };
}

/**
 * A fire on demand (`orgloop sources fire`): the events each schedule (or the one named) would
 * emit at `at`, marked manual, with dedupe keys of their own so they never stand in for a tick.
 */
export function manualCronEvents(config: Record<string, unknown>, at: Date, schedule?: string): EmittedEvent[] {
  const c = compile(config);
  const mark = (e: EmittedEvent): EmittedEvent => ({ ...e, payload: { ...e.payload, manual: true }, dedupe_key: `manual:${e.dedupe_key}` });
  if (!c.named) {
    if (schedule !== undefined) throw new Error('this cron source has one schedule: fire it without naming one');
    return [mark(cronEvent(config, at))];
  }
  const picked = schedule === undefined ? c.named : c.named.filter((s) => s.name === schedule);
  if (picked.length === 0) throw new Error(`no schedule named ${JSON.stringify(schedule)} (this source has ${c.named.map((s) => s.name).join(', ')})`);
  const scheduledAt = at.toISOString();
  return picked.map((s) =>
    mark({
      type: 'resource.changed',
      provenance: { platform: 'cron', platform_event: `schedule.${s.name}`, author_type: 'system' },
      payload: { schedule: s.name, ...(s.everyMs !== undefined ? { interval_ms: s.everyMs } : {}), ...s.payload, scheduled_at: scheduledAt },
      dedupe_key: `${s.name}@${scheduledAt}`,
      time: scheduledAt,
    }),
  );
}

export const cronSource: SourceProvider = {
  kind: 'source',
  name: 'cron',
  description: 'Emits an event on a cron schedule or at a fixed interval.',
  configSchema: {
    type: 'object',
    additionalProperties: true,
    properties: {
      schedule: { type: 'string', minLength: 1, description: 'cron expression, e.g. "0 6 * * 1"' },
      every: { type: 'string', minLength: 1, description: 'interval shorthand, e.g. 5m, 1h30m' },
      timezone: { type: 'string', minLength: 1, description: 'IANA timezone for schedule (default UTC)' },
      min_interval: { type: 'string', minLength: 1, description: 'the shortest interval this source may fire at without a validate warning (default 1m; each fire is a stored event)' },
      payload: { type: 'object', description: 'merged into each event payload (plus scheduled_at)' },
      first_start: {
        enum: ['fire', 'wait'],
        description: "fire: each schedule fires once when the source first starts against the store (default with schedules, as OrgLoop); wait: only at its times (default otherwise)",
      },
      schedules: {
        type: 'array',
        minItems: 1,
        description: "OrgLoop's shape: several named schedules, each event's platform_event is schedule.<name>",
        items: {
          type: 'object',
          required: ['name', 'cron'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1 },
            cron: { type: 'string', minLength: 1, description: 'a cron expression, or an interval: every 5m, 5m' },
            payload: { type: 'object' },
          },
        },
      },
    },
  },
  validate(config) {
    const issues: Array<{ path: string; message: string; severity?: 'warning' }> = [];
    let floorMs = CRON_FLOOR_MS;
    if (config.min_interval !== undefined) {
      try {
        floorMs = parseDuration(config.min_interval as string);
        if (floorMs < 1000) issues.push({ path: 'min_interval', message: 'min_interval must be at least 1s' });
      } catch (err) {
        issues.push({ path: 'min_interval', message: (err as Error).message });
      }
    }
    const floor = (path: string, everyMs: number) => {
      const w = floorWarning(everyMs, floorMs);
      if (w) issues.push({ path, message: w, severity: 'warning' });
    };
    const tzOf = () => (typeof config.timezone === 'string' && !timezoneError(config.timezone) ? config.timezone : undefined);
    const hasSchedule = config.schedule !== undefined;
    const hasEvery = config.every !== undefined;
    if (Array.isArray(config.schedules)) {
      if (hasSchedule || hasEvery) issues.push({ path: 'schedules', message: 'set schedules, or schedule / every, not both' });
      const names = new Set<string>();
      config.schedules.forEach((s, i) => {
        if (!isObject(s) || typeof s.cron !== 'string') return;
        if (names.has(String(s.name))) issues.push({ path: `schedules.${i}.name`, message: `duplicate schedule name ${JSON.stringify(s.name)}` });
        names.add(String(s.name));
        let every: number | null = null;
        try {
          every = intervalMs(s.cron);
        } catch (err) {
          issues.push({ path: `schedules.${i}.cron`, message: (err as Error).message });
          return;
        }
        if (every !== null) {
          if (every < 1000) issues.push({ path: `schedules.${i}.cron`, message: 'an interval must be at least 1s' });
          else floor(`schedules.${i}.cron`, every);
        } else {
          const e = cronExpressionError(s.cron, typeof config.timezone === 'string' ? config.timezone : undefined);
          if (e) issues.push({ path: `schedules.${i}.cron`, message: `${e} (or write an interval: every 5m)` });
          else floor(`schedules.${i}.cron`, shortestGapMs(s.cron, tzOf(), floorMs));
        }
      });
      return issues;
    }
    if (hasSchedule && hasEvery) issues.push({ path: 'every', message: 'set either schedule or every, not both' });
    if (!hasSchedule && !hasEvery) issues.push({ path: 'schedule', message: 'cron source needs schedule (a cron expression) or every (a duration)' });
    let tzOk = true;
    if (typeof config.timezone === 'string') {
      const e = timezoneError(config.timezone);
      if (e) {
        tzOk = false;
        issues.push({ path: 'timezone', message: e });
      }
    }
    if (typeof config.schedule === 'string') {
      const e = cronExpressionError(config.schedule, tzOk ? (config.timezone as string | undefined) : undefined);
      if (e) issues.push({ path: 'schedule', message: e });
      else floor('schedule', shortestGapMs(config.schedule, tzOf(), floorMs));
    }
    if (hasEvery) {
      try {
        const every = parseDuration(config.every as string);
        if (every < 1000) issues.push({ path: 'every', message: 'every must be at least 1s' });
        else floor('every', every);
      } catch (err) {
        issues.push({ path: 'every', message: (err as Error).message });
      }
    }
    return issues;
  },
  nextFire(ctx: ProviderContext, after: Date) {
    return nextCronFire(ctx.config, after);
  },
  fire(ctx: ProviderContext, at: Date) {
    return Array.isArray(ctx.config.schedules) ? cronEvents(ctx.config, at) : cronEvent(ctx.config, at);
  },
  firstStart(ctx: ProviderContext, at: Date) {
    return firstStartCronEvents(ctx.config, at);
  },
};
