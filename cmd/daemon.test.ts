// The executor as a background process and as a service, as a user runs it: real child processes,
// real pid files and signals, real ports; unit files checked for content.
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempProject, webhookProject } from './test-helpers/executor.js';

const PROJECT = (name: string) => webhookProject({ name });

async function applied(name: string): Promise<string> {
  const dir = tempProject({ 'orgloop.yaml': PROJECT(name) });
  const r = await cli(['apply', '--auto-approve'], { cwd: dir });
  expect(r.stderr).toBe('');
  return dir;
}

const healthy = (url: string) =>
  new Promise<number>((res) => http.get(`${url}/healthz`, (r) => (r.resume(), res(r.statusCode ?? 0))).on('error', () => res(0)));

describe('start --daemon / stop', () => {
  it('two projects run side by side in the background; each stops on its own; status tells', async () => {
    const a = await applied('alpha');
    const b = await applied('beta');
    const startA = await cli(['start', '--daemon', '--port', '0'], { cwd: a });
    expect(startA.stderr).toBe('');
    expect(startA.code).toBe(0);
    const urlA = /listening on (http:\/\/[\d.]+:\d+)/.exec(startA.stdout)![1]!;
    expect(startA.stdout).toContain(`Log: ${join(a, '.orgloop', 'orgloop.log')}`);
    const startB = await cli(['start', '-d', '--port', '0'], { cwd: b });
    expect(startB.code).toBe(0);
    const urlB = /listening on (http:\/\/[\d.]+:\d+)/.exec(startB.stdout)![1]!;
    expect(urlB).not.toBe(urlA);
    expect([await healthy(urlA), await healthy(urlB)]).toEqual([200, 200]);

    const again = await cli(['start', '--daemon', '--port', '0'], { cwd: a });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^Error: an executor for this project is already running in the background \(pid \d+, http:\/\/127\.0\.0\.1:\d+\); stop it with `orgloop stop`\n$/);

    const statusA = await cli(['status'], { cwd: a });
    expect(statusA.stdout).toMatch(new RegExp(`Daemon: running \\(pid \\d+, ${urlA.replace(/\./g, '\\.')}, since `));
    const pidA = JSON.parse(readFileSync(join(a, '.orgloop', 'orgloop.pid'), 'utf8')).pid;

    const stopA = await cli(['stop'], { cwd: a });
    expect(stopA).toEqual({ code: 0, stdout: `Stopped the executor (pid ${pidA}).\n`, stderr: '' });
    expect(existsSync(join(a, '.orgloop', 'orgloop.pid'))).toBe(false);
    expect(await healthy(urlA)).toBe(0);
    expect(await healthy(urlB)).toBe(200);
    const after = await cli(['status'], { cwd: a });
    expect(after.stdout).not.toContain('Daemon:');
    expect(after.stdout).toContain('Executors: none running');
    expect(readFileSync(join(a, '.orgloop', 'orgloop.log'), 'utf8')).toMatch(/listening on[\s\S]*shutting down: no longer accepting events\nstopped/);
    expect((await cli(['stop'], { cwd: a })).stdout).toBe('No executor running in the background for this project (`orgloop start --daemon` starts one).\n');

    expect((await cli(['stop', '--timeout', '10s'], { cwd: b })).code).toBe(0);
    expect(await healthy(urlB)).toBe(0);
  });

  it('a start that cannot listen leaves no ghost executor, in the foreground or in the background', async () => {
    const dir = await applied('busy');
    const blocker = http.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = String((blocker.address() as AddressInfo).port);
    try {
      const fg = await cli(['start', '--port', port], { cwd: dir });
      expect(fg.code).toBe(1);
      expect(fg.stderr).toContain(`Error: port ${port} on 127.0.0.1 is already in use`);
      const bg = await cli(['start', '--daemon', '--port', port], { cwd: dir });
      expect(bg.code).toBe(1);
      expect(bg.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(bg.stderr).toMatch(/Error: the executor exited \(code 1\) before it was ready \(log: .*orgloop\.log\)\n$/);
      expect(existsSync(join(dir, '.orgloop', 'orgloop.pid'))).toBe(false);
      const status = await cli(['status', '--json'], { cwd: dir });
      const report = JSON.parse(status.stdout);
      expect(report.executors).toEqual([]);
      expect(report.daemon).toEqual({ running: false });
    } finally {
      blocker.close();
    }
  });

  it('keeps its log bounded: rotated copies up to ORGLOOP_LOG_KEEP, each about ORGLOOP_LOG_MAX_BYTES', async () => {
    const dir = await applied('rotating');
    const env = { ORGLOOP_LOG_MAX_BYTES: '2KB', ORGLOOP_LOG_KEEP: '2', ORGLOOP_LOG_CHECK_MS: '100' };
    const start = await cli(['start', '--daemon', '--port', '0', '--verbose'], { cwd: dir, env });
    expect(start.code).toBe(0);
    const url = /listening on (http:\/\/[\d.]+:\d+)/.exec(start.stdout)![1]!;
    const log = join(dir, '.orgloop', 'orgloop.log');
    try {
      // each event writes several debug lines; keep posting until two rotations happened
      for (let i = 0; i < 400 && !existsSync(`${log}.2`); i++) {
        await fetch(`${url}/webhook/hook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ i }) });
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(existsSync(`${log}.1`)).toBe(true);
      expect(existsSync(`${log}.2`)).toBe(true);
      expect(existsSync(`${log}.3`)).toBe(false);
      expect(readFileSync(`${log}.1`, 'utf8')).toMatch(/deliver\./);
      expect(await healthy(url)).toBe(200);
    } finally {
      expect((await cli(['stop'], { cwd: dir })).code).toBe(0);
    }
    // the executor's last words landed in the live file after the rotations
    expect(readFileSync(log, 'utf8')).toMatch(/stopped\n$/);
  });

  it('refuses to start in the background what was never applied', async () => {
    const dir = tempProject({ 'orgloop.yaml': PROJECT('fresh') });
    const r = await cli(['start', '--daemon'], { cwd: dir });
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'Error: Nothing has been applied to this state yet: run `orgloop apply` (or `orgloop up` on a terminal) first.\n' });
  });
});

describe('orgloop service', () => {
  it('a systemd user unit that runs start from the project, restarts it and appends to its log', async () => {
    const dir = tempProject({ 'orgloop.yaml': PROJECT("my_proj") });
    const r = await cli(['service', 'install', '--platform', 'systemd', '--print', '--port', '4811'], { cwd: dir });
    expect(r.stderr).toBe('');
    const unit = r.stdout;
    expect(unit).toContain('[Unit]\nDescription=orgloop executor for my_proj (');
    expect(unit).toContain(`WorkingDirectory=${dir}\n`);
    expect(unit).toMatch(new RegExp(`\\nExecStart=${process.execPath.replace(/[.]/g, '\\.')} \\S+/dist/cmd/main\\.js -c ${dir.replace(/[.]/g, '\\.')}/orgloop\\.yaml start --port 4811\\n`));
    expect(unit).toContain('\nRestart=on-failure\n');
    expect(unit).toContain(`\nStandardOutput=append:${join(dir, '.orgloop', 'orgloop.log')}\n`);
    expect(unit).toContain(`\nEnvironment=ORGLOOP_LOG_FILE=${join(dir, '.orgloop', 'orgloop.log')}\n`);
    expect(unit).toContain('\n[Install]\nWantedBy=default.target\n');
  });

  it('a launchd agent with the same command, kept alive, logging to the same file', async () => {
    const dir = tempProject({ 'orgloop.yaml': PROJECT('mac') });
    const r = await cli(['service', 'install', '--platform', 'launchd', '--print'], { cwd: dir });
    const plist = r.stdout;
    expect(plist).toMatch(/<key>Label<\/key>\n {2}<string>dev\.orgloop\.mac-[0-9a-f]{8}<\/string>/);
    expect(plist).toContain(`    <string>-c</string>\n    <string>${dir}/orgloop.yaml</string>\n    <string>start</string>\n  </array>`);
    expect(plist).toContain('<key>RunAtLoad</key>\n  <true/>');
    expect(plist).toContain('<key>KeepAlive</key>\n  <dict>\n    <key>SuccessfulExit</key>\n    <false/>');
    expect(plist).toContain(`<key>StandardOutPath</key>\n  <string>${join(dir, '.orgloop', 'orgloop.log')}</string>`);
    expect(plist).toContain(`<key>ORGLOOP_LOG_FILE</key>\n    <string>${join(dir, '.orgloop', 'orgloop.log')}</string>`);
  });

  it('install --no-start writes one file per project; uninstall removes it; status and logs say what there is', async () => {
    const home = tempProject({});
    const env = { HOME: home, XDG_CONFIG_HOME: '' };
    const a = tempProject({ 'orgloop.yaml': PROJECT('same') });
    const b = tempProject({ 'orgloop.yaml': PROJECT('same') });
    const ia = await cli(['service', 'install', '--platform', 'systemd', '--no-start'], { cwd: a, env });
    const ib = await cli(['service', 'install', '--platform', 'systemd', '--no-start'], { cwd: b, env });
    const fa = /^Wrote (.+\.service)$/m.exec(ia.stdout)![1]!;
    const fb = /^Wrote (.+\.service)$/m.exec(ib.stdout)![1]!;
    expect(fa).toMatch(new RegExp(`^${home}/\\.config/systemd/user/orgloop-same-[0-9a-f]{8}\\.service$`));
    expect(fb).not.toBe(fa);
    expect(ia.stdout).toContain('Start it with:\n  systemctl --user daemon-reload\n  systemctl --user enable --now orgloop-same-');
    expect(readFileSync(fa, 'utf8')).toContain(`WorkingDirectory=${a}\n`);
    expect((await cli(['service', 'status', '--platform', 'systemd'], { cwd: a, env })).stdout).toContain(`File: ${fa}\n`);
    const un = await cli(['service', 'uninstall', '--platform', 'systemd'], { cwd: a, env });
    expect(un.stdout).toBe(`Removed ${fa}\n`);
    expect(existsSync(fa)).toBe(false);
    expect(existsSync(fb)).toBe(true);
    expect((await cli(['service', 'status', '--platform', 'systemd'], { cwd: a, env })).stdout).toBe('Service: not installed (orgloop service install)\n');
    const logs = await cli(['service', 'logs'], { cwd: a, env });
    expect(logs.code).toBe(1);
    expect(logs.stderr).toContain('no log yet at');
  });
});
