// The seed's first run: `orgloop init`, `orgloop up --auto-approve`, then the curl from the
// article, against the real CLI and a real command actor.

import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, postJson, runExecutor, until, type RunningExecutor } from './test-helpers/executor.js';

const running: RunningExecutor[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

describe('orgloop up', () => {
  it('init + up --auto-approve + the seed curl runs the actor once and logs the path of the event', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-up-'));
    const init = await cli(['init'], { cwd: dir });
    expect(init.code).toBe(0);

    const ex = await runExecutor(['up', '--auto-approve', '--port', '0'], { cwd: dir });
    running.push(ex);
    expect(ex.output()).toContain('Applied version 1.');

    const r = await postJson(`${ex.url}/webhook/webhook`, { type: 'test', message: 'hello from orgloop' });
    expect(r.status).toBe(202);
    expect(r.json.deliveries).toBe(1);

    const inbox = join(dir, '.orgloop', 'inbox.jsonl');
    const events = await until(
      () => (existsSync(inbox) ? readFileSync(inbox, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : null),
      15_000,
      'the inbox actor to run',
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ id: r.json.event_id, payload: { type: 'test', message: 'hello from orgloop' }, provenance: { platform_event: 'test' } });

    const stopped = await ex.stop();
    expect(stopped.code).toBe(0);
    const logs = await cli(['logs', '--json'], { cwd: dir });
    const phases = logs.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.event_id === r.json.event_id)
      .map((e) => e.phase);
    expect(phases.filter((p) => p !== 'deliver.attempt')).toEqual(['source.emit', 'route.match', 'deliver.success']);

    // a second `up` with nothing changed just runs the applied version
    const again = await runExecutor(['up', '--auto-approve', '--port', '0'], { cwd: dir });
    running.push(again);
    expect(again.output()).toContain('No changes: running the applied version.');
  });

  it('refuses to apply without a terminal unless --auto-approve', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-up-'));
    await cli(['init'], { cwd: dir });
    const r = await cli(['up', '--port', '0'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('up needs confirmation before applying, but there is no terminal to ask on');
  });
});
