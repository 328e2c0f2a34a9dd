// What `orgloop status` shows a user, run as a child process against a real SQLite store.

import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { applyDirect, cli, runExecutor, tempProject, until } from './test-helpers/executor.js';
import { openStore } from '../state/open.js';
import { newId } from '../engine/run/ids.js';

const project = `
sources:
  - id: hook
    connector: webhook
actors:
  - id: a
    connector: command
    config: { command: 'exit 1' }
routes:
  - name: r
    when: { source: hook, events: [resource.changed] }
    then: { actor: a }
`;

describe('orgloop status', () => {
  it('counts OLDEST PENDING from when the event arrived and shows the next attempt apart', async () => {
    const dir = tempProject({ 'orgloop.yaml': project });
    const serial = await applyDirect(dir);
    // a delivery that arrived ten minutes ago, failed, and waits an hour for its next attempt
    const arrived = Date.now() - 10 * 60_000;
    const store = await openStore(join(dir, '.orgloop', 'state.db'), { clock: () => arrived });
    const id = newId('evt');
    await store.ingest([
      {
        event: { id, source: 'hook', type: 'resource.changed', dedupe_key: null, event_json: JSON.stringify({ id }), trace_id: `trc_${id.slice(4)}`, parent_id: null, hops: 0, received_at: new Date(arrived).toISOString() },
        deliveries: [{ id: newId('dlv'), route: 'r', actor: 'a', state_serial: serial }],
      },
    ]);
    const [d] = await store.claim('w', 1, 60_000);
    await store.fail(d!.id, 'w', 'exit 1', { runAt: Date.now() + 3600_000 });
    await store.close();

    const text = await cli(['status'], { cwd: dir });
    expect(text.code).toBe(0);
    const header = text.stdout.split('\n').find((l) => l.startsWith('ROUTE'))!;
    expect(header).toMatch(/OLDEST PENDING\s+NEXT ATTEMPT$/);
    const row = text.stdout.split('\n').find((l) => l.startsWith('r '))!;
    // 10 minutes (and the seconds the test took), not 0s; the next attempt in 59-60 minutes
    expect(row).toMatch(/\s10m(\d+s)?\s+in (59m\d*s?|1h0m)$/);
    expect(text.stdout).toMatch(/Pending: 1 \(oldest arrived 10m(\d+s)? ago, next attempt in (59m\d*s?|1h0m)\)/);

    const json = JSON.parse((await cli(['status', '--json'], { cwd: dir })).stdout);
    const r = json.routes.find((x: { name: string }) => x.name === 'r');
    expect(r.oldest_pending_age_s).toBeGreaterThanOrEqual(600);
    expect(Date.parse(r.next_attempt_at) - Date.now()).toBeGreaterThan(3000_000);
    expect(json.totals.next_attempt_at).toBe(r.next_attempt_at);
  });

  it('shows when each cron source fires next, and `sources fire` fires one now', async () => {
    const dir = tempProject({
      'orgloop.yaml': `
sources:
  - id: hourly
    connector: cron
    config: { every: 1h, payload: { job: report } }
  - id: hook
    connector: webhook
actors:
  - id: a
    connector: command
    config: { command: 'cat >> fired.jsonl; echo >> fired.jsonl' }
routes:
  - name: report
    when: { source: hourly }
    then: { actor: a }
`,
    });
    await applyDirect(dir);
    const before = Date.now();
    const json = JSON.parse((await cli(['status', '--json'], { cwd: dir })).stdout);
    const hourly = json.sources.find((s: { id: string }) => s.id === 'hourly');
    // every: ticks align to the epoch; nothing has fired yet, so the next one is the next whole hour
    expect(Date.parse(hourly.next_fire_at) % 3600_000).toBe(0);
    expect(Date.parse(hourly.next_fire_at)).toBeGreaterThan(before);
    expect(Date.parse(hourly.next_fire_at) - before).toBeLessThanOrEqual(3600_000);
    expect(json.sources.find((s: { id: string }) => s.id === 'hook').next_fire_at).toBeUndefined();
    const text = (await cli(['status'], { cwd: dir })).stdout;
    expect(text).toMatch(/SOURCE\s+CONNECTOR\s+LAST EVENT\s+TYPE\s+CURSOR UPDATED\s+NEXT FIRE/);
    expect(text).toContain(`(${hourly.next_fire_at.slice(0, 19)}Z)`);

    const notCron = await cli(['sources', 'fire', 'hook'], { cwd: dir });
    expect(notCron.code).toBe(1);
    expect(notCron.stderr).toContain('source "hook" is a webhook source; only cron sources fire on demand');
    const unknown = await cli(['sources', 'fire', 'nope'], { cwd: dir });
    expect(unknown.stderr).toContain('no source "nope" in the applied version 1 (sources: hook, hourly)');

    const fired = await cli(['sources', 'fire', 'hourly'], { cwd: dir });
    expect(fired.code).toBe(0);
    expect(fired.stdout).toMatch(/^Fired hourly as evt_\w+ against version 1: 1 delivery \(report -> a\); a running executor delivers it\.\n$/);
    const ex = await runExecutor(['start', '--port', '0'], { cwd: dir });
    try {
      const got = await until(() => (existsSync(join(dir, 'fired.jsonl')) ? readFileSync(join(dir, 'fired.jsonl'), 'utf8').trim() : null), 15_000, 'the fired event delivered');
      expect(JSON.parse(got.split('\n')[0]!)).toMatchObject({ source: 'hourly', provenance: { platform: 'cron' }, payload: { job: 'report', manual: true } });
    } finally {
      await ex.stop();
    }
  });
});
