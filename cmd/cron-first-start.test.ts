// OrgLoop's cron fires every schedule once on its first poll with no checkpoint; ours does it once
// per source in the store: across executors starting together, and not again on a restart.

import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyDirect, cli, runExecutor, tempProject, until, type RunningExecutor } from './test-helpers/executor.js';

const running: RunningExecutor[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});
async function start(dir: string) {
  const ex = await runExecutor(['start', '--port', '0'], { cwd: dir });
  running.push(ex);
  return ex;
}
// one file per delivery: two executors' actors append at once, so a shared file would interleave
const fired = (dir: string) => {
  const d = join(dir, 'fired');
  if (!existsSync(d)) return [];
  return readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(d, f), 'utf8')));
};

describe('cron first start (OrgLoop schedules)', () => {
  it('fires each schedule once on the first start, once across executors, and not on a restart', async () => {
    const dir = tempProject({
      'orgloop.yaml': `
sources:
  - id: tick
    connector: cron
    config:
      schedules:
        - { name: hourly-sweep, cron: every 1h, payload: { team: ops } }
        - { name: every-minute, cron: "* * * * *" }
actors:
  - id: log
    connector: command
    config: { command: "mkdir -p fired && cat > fired/$$.tmp && mv fired/$$.tmp fired/$$.json" }
routes:
  - name: on-schedule
    when: { source: tick, events: [resource.changed] }
    then: { actor: log }
`,
    });
    await applyDirect(dir);
    const [a, b] = await Promise.all([start(dir), start(dir)]);
    const firstStart = () => fired(dir).filter((e) => e.payload?.first_start);
    await until(() => firstStart().length >= 2, 20_000, 'the first-start events');

    await Promise.all([a.stop(), b.stop()]);
    running.splice(0);
    await start(dir);
    // a manual fire is delivered after anything a restart would have emitted on its way up
    const f = await cli(['sources', 'fire', 'tick', '--schedule', 'hourly-sweep'], { cwd: dir });
    expect(f.code, f.stderr).toBe(0);
    await until(() => fired(dir).some((e) => e.payload?.manual), 20_000, 'the manual fire');

    const events = firstStart();
    expect(events).toHaveLength(2);
    const bySchedule = Object.fromEntries(events.map((e) => [e.provenance.platform_event, e]));
    expect(Object.keys(bySchedule).sort()).toEqual(['schedule.every-minute', 'schedule.hourly-sweep']);
    expect(bySchedule['schedule.hourly-sweep']).toMatchObject({
      type: 'resource.changed',
      source: 'tick',
      provenance: { platform: 'cron', author_type: 'system' },
      payload: { schedule: 'hourly-sweep', interval_ms: 3_600_000, team: 'ops' },
    });
    expect(bySchedule['schedule.every-minute'].payload.schedule).toBe('every-minute');
  });
});
