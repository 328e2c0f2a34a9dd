import { describe, expect, it } from 'vitest';
import { makeCtx } from '../lib/test-helpers/context.js';
import { cronSource } from './cron.js';

describe('cron source', () => {
  it('computes the next fire of a schedule strictly after the given time', () => {
    const ctx = makeCtx({ schedule: '0 6 * * 1' });
    expect(cronSource.nextFire!(ctx, new Date('2024-01-01T06:00:00Z'))?.toISOString()).toBe('2024-01-08T06:00:00.000Z');
    expect(cronSource.nextFire!(ctx, new Date('2024-01-01T05:59:59Z'))?.toISOString()).toBe('2024-01-01T06:00:00.000Z');
  });

  it('honours the timezone', () => {
    const ctx = makeCtx({ schedule: '0 9 * * *', timezone: 'America/New_York' });
    // 09:00 in New York in January is 14:00 UTC
    expect(cronSource.nextFire!(ctx, new Date('2024-01-10T00:00:00Z'))?.toISOString()).toBe('2024-01-10T14:00:00.000Z');
  });

  it('every: ticks aligned to the epoch, so restarts see the same times', () => {
    const ctx = makeCtx({ every: '5m' });
    expect(cronSource.nextFire!(ctx, new Date('2024-01-01T00:03:10Z'))?.toISOString()).toBe('2024-01-01T00:05:00.000Z');
    expect(cronSource.nextFire!(ctx, new Date('2024-01-01T00:05:00Z'))?.toISOString()).toBe('2024-01-01T00:10:00.000Z');
  });

  it('fire builds the event with the scheduled time as dedupe key', () => {
    const at = new Date('2024-01-08T06:00:00Z');
    expect(cronSource.fire!(makeCtx({ schedule: '0 6 * * 1', payload: { task: 'audit' } }), at)).toEqual({
      type: 'resource.changed',
      provenance: { platform: 'cron', platform_event: 'cron.fired', author_type: 'system' },
      payload: { task: 'audit', scheduled_at: '2024-01-08T06:00:00.000Z' },
      dedupe_key: '2024-01-08T06:00:00.000Z',
      time: '2024-01-08T06:00:00.000Z',
    });
  });

  it('validate: schedule xor every, cron syntax, timezone, duration', () => {
    const v = cronSource.validate!;
    expect(v({ schedule: '0 6 * * 1' })).toEqual([]);
    expect(v({ schedule: '@daily' })).toEqual([]);
    expect(v({ every: '1h30m' })).toEqual([]);
    expect(v({})).toEqual([{ path: 'schedule', message: 'cron source needs schedule (a cron expression) or every (a duration)' }]);
    expect(v({ schedule: '* * * * *', every: '5m' })).toEqual([{ path: 'every', message: 'set either schedule or every, not both' }]);
    expect(v({ schedule: '61 * * * *' })).toEqual([
      { path: 'schedule', message: 'invalid cron expression "61 * * * *": Constraint error, got value 61 expected range 0-59' },
    ]);
    expect(v({ schedule: '* * *' })).toEqual([
      { path: 'schedule', message: 'invalid cron expression "* * *": expected 5 fields (minute hour day month weekday) or 6 with seconds' },
    ]);
    expect(v({ schedule: '0 6 * * 1', timezone: 'Mars/Olympus' })).toEqual([
      { path: 'timezone', message: 'unknown timezone "Mars/Olympus" (use an IANA name like Europe/Berlin or UTC)' },
    ]);
    expect(v({ every: 'often' })).toEqual([{ path: 'every', message: expect.stringContaining('invalid duration "often"') }]);
    expect(v({ every: '10ms' })).toEqual([{ path: 'every', message: 'every must be at least 1s' }]);
  });

  it('hole 18: firing more often than the floor (min_interval, default 1m) is a warning, in every form', () => {
    const v = cronSource.validate!;
    const warned = (config: Record<string, unknown>) => v(config).map((i) => [i.path, i.severity, i.message.slice(0, 40)]);
    expect(warned({ every: '1s' })).toEqual([['every', 'warning', 'fires every 1s (86,400 events a day, eac']]);
    expect(warned({ schedule: '*/5 * * * * *' })).toEqual([['schedule', 'warning', 'fires every 5s (17,280 events a day, eac']]);
    expect(warned({ schedules: [{ name: 'x', cron: 'every 30s' }] })).toEqual([['schedules.0.cron', 'warning', 'fires every 30s (2,880 events a day, eac']]);
    expect(v({ schedule: '* * * * *' })).toEqual([]);
    expect(v({ every: '1s', min_interval: '1s' })).toEqual([]);
    expect(v({ every: '5m', min_interval: '10ms' })).toEqual([{ path: 'min_interval', message: 'min_interval must be at least 1s' }]);
    // an expression firing at most once a minute is only sampled when the floor is above a minute
    expect(v({ schedule: '30 * * * * *' })).toEqual([]);
    expect(warned({ schedule: '*/5 * * * *', min_interval: '1h' })).toEqual([['schedule', 'warning', 'fires every 5m (288 events a day, each s']]);
    expect(warned({ schedules: [{ name: 'x', cron: '15 */10 * * * *' }], min_interval: '30m' })).toEqual([['schedules.0.cron', 'warning', 'fires every 10m (144 events a day, each ']]);
    expect(v({ schedule: '0 */5 * * *', min_interval: '1h' })).toEqual([]);
    expect(warned({ schedule: '@hourly', min_interval: '2h' })).toEqual([['schedule', 'warning', 'fires every 60m (24 events a day, each s']]);
  });

  it("OrgLoop's first start: each interval fires, an expression only if it matched in the past 366 days", () => {
    const at = new Date('2027-01-15T12:00:00Z');
    const ctx = makeCtx({
      schedules: [
        { name: 'sweep', cron: 'every 1h', payload: { team: 'ops' } },
        { name: 'daily', cron: '0 9 * * *' },
        { name: 'leap-day', cron: '0 0 29 2 *' },
      ],
    });
    const events = cronSource.firstStart!(ctx, at);
    expect(events.map((e) => [e.provenance?.platform_event, e.dedupe_key])).toEqual([
      ['schedule.sweep', 'sweep@first-start'],
      ['schedule.daily', 'daily@first-start'],
    ]);
    expect(events[0]).toMatchObject({
      type: 'resource.changed',
      provenance: { platform: 'cron', author_type: 'system' },
      payload: { schedule: 'sweep', interval_ms: 3_600_000, team: 'ops', first_start: true, scheduled_at: at.toISOString() },
    });
    // our own single-schedule shape (not OrgLoop's) waits for its next tick unless asked
    expect(cronSource.firstStart!(makeCtx({ every: '1h' }), at)).toEqual([]);
    expect(cronSource.firstStart!(makeCtx({ every: '1h', first_start: 'fire' }), at).map((e) => e.dedupe_key)).toEqual(['first-start']);
    expect(cronSource.firstStart!(makeCtx({ schedules: [{ name: 'sweep', cron: 'every 1h' }], first_start: 'wait' }), at)).toEqual([]);
  });
});
