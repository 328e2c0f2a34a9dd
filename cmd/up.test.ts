// The seed's first run: `orgloop init`, `orgloop up --auto-approve`, then the curl from the
// article, against the real CLI and a real command actor.

import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { CLI, cli, postJson, runExecutor, until, type RunningExecutor } from './test-helpers/executor.js';

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
    expect(ex.output()).toContain('Apply complete! Resources: 4 added, 0 changed, 0 destroyed.');
    expect(ex.output()).toContain('State serial: 1');

    const r = await postJson(`${ex.url}/webhook/webhook`, { type: 'test', message: 'hello from orgloop' });
    expect(r.status).toBe(202);
    expect(r.json.deliveries).toBe(1);

    const inbox = join(dir, '.orgloop', 'inbox.jsonl');
    // the actor's shell creates the file before it writes the line: wait for a complete line
    const events = await until(
      () => {
        const text = existsSync(inbox) ? readFileSync(inbox, 'utf8') : '';
        return text.endsWith('\n') ? text.split('\n').filter(Boolean).map((l) => JSON.parse(l)) : null;
      },
      15_000,
      'the inbox actor to run',
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ id: r.json.event_id, payload: { type: 'test', message: 'hello from orgloop' }, provenance: { platform_event: 'test' } });

    // the seed's next commands, with the executor running: status, routes, doctor
    const status = await cli(['status'], { cwd: dir });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/alive/);
    expect(status.stdout).toMatch(/webhook-to-inbox\s+inbox\s+0\s+0\s+0\s+1\s/);
    const routes = await cli(['routes'], { cwd: dir });
    expect(routes).toMatchObject({ code: 0, stderr: '' });
    expect(routes.stdout).toContain('webhook-to-inbox: [resource.changed] -> inbox (sops/hello.md)');
    const doctor = await cli(['doctor'], { cwd: dir });
    expect(doctor.code).toBe(0);
    expect(doctor.stdout).toMatch(/0 failed/);

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

  it("the seed's getting-started: init, npm install, then start on a terminal offers the first apply", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-up-'));
    expect((await cli(['init'], { cwd: dir })).code).toBe(0);
    const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: dir, encoding: 'utf8' });
    expect(npm.status).toBe(0);
    // script(1) gives `start` a real terminal; it must show the plan and wait for 'yes'
    const p = spawn('script', ['-qfec', `${process.execPath} ${CLI} start --port 0`, '/dev/null'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    try {
      await until(() => out.includes('Enter a value:'), 15_000, 'the confirmation prompt');
      expect(out).toContain('Nothing has been applied to this state yet: planning the configuration first.');
      expect(out).toContain('Plan: 4 to add, 0 to change, 0 to destroy.');
      p.stdin.write('yes\n');
      const url = await until(() => /listening on (http:\/\/[\d.]+:\d+)/.exec(out)?.[1], 15_000, 'the executor to listen');
      expect(out).toContain('Apply complete! Resources: 4 added');
      const r = await postJson(`${url}/webhook/webhook`, { type: 'test', message: 'hello from orgloop' });
      expect(r.status).toBe(202);
    } finally {
      // script and the executor under it share a process group of their own
      const exited = new Promise((r) => p.once('exit', r));
      process.kill(-p.pid!, 'SIGTERM');
      await exited;
    }
  });

  it('refuses to apply without a terminal unless --auto-approve', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-up-'));
    await cli(['init'], { cwd: dir });
    const r = await cli(['up', '--port', '0'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('up needs confirmation before applying, but there is no terminal to ask on');
  });
});
