// Source `cron`: fires on a cron `schedule` (cron-parser, optional `timezone`) or `every` duration.
// `every` ticks are aligned to the Unix epoch, so fire times are the same across restarts.
// The executor stores the last fire time; dedupe_key is the scheduled time (ISO) so a restart
// never doubles a tick.

import { CronExpressionParser } from 'cron-parser';
import type { EmittedEvent, ProviderContext, SourceProvider } from '../types.js';
import { parseDuration } from '../lib/duration.js';

interface CompiledCron {
  schedule?: string;
  tz?: string;
  everyMs?: number;
}

const compiledByConfig = new WeakMap<object, CompiledCron>();

function compile(config: Record<string, unknown>): CompiledCron {
  let c = compiledByConfig.get(config);
  if (!c) {
    c = {};
    if (typeof config.schedule === 'string') c.schedule = config.schedule;
    if (typeof config.timezone === 'string') c.tz = config.timezone;
    if (config.every !== undefined) c.everyMs = parseDuration(config.every as string);
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
  if (c.everyMs !== undefined) {
    const t = after.getTime();
    return new Date((Math.floor(t / c.everyMs) + 1) * c.everyMs);
  }
  if (c.schedule === undefined) return null;
  const expr = CronExpressionParser.parse(c.schedule.trim(), { currentDate: after, ...(c.tz ? { tz: c.tz } : {}) });
  if (!expr.hasNext()) return null;
  return expr.next().toDate();
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
      payload: { type: 'object', description: 'merged into each event payload (plus scheduled_at)' },
    },
  },
  validate(config) {
    const issues: Array<{ path: string; message: string }> = [];
    const hasSchedule = config.schedule !== undefined;
    const hasEvery = config.every !== undefined;
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
    }
    if (hasEvery) {
      try {
        if (parseDuration(config.every as string) < 1000) issues.push({ path: 'every', message: 'every must be at least 1s' });
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
    return cronEvent(ctx.config, at);
  },
};
