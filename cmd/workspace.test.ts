// Named workspaces as a user runs them: the real CLI as child processes, one project applied to
// two workspaces with different values (port, a .env.<name> variable, ${ORGLOOP_WORKSPACE}),
// both executors running in the background at once, each state on its own, then the refusals
// and the forced delete. SQLite always; Postgres when ORGLOOP_TEST_PG_URL is set.

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cli, startSink, tempProject, until } from './test-helpers/executor.js';

const PG_URL = process.env.ORGLOOP_TEST_PG_URL;
const schemas: string[] = [];
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
afterAll(async () => {
  if (!PG_URL || !schemas.length) return;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await c.end();
});

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const healthy = (url: string) =>
  new Promise<number>((res) => http.get(`${url}/healthz`, (r) => (r.resume(), res(r.statusCode ?? 0))).on('error', () => res(0)));

function project(sinkUrl: string, ports: { dflt: number; staging: number }): string {
  return `name: shop
defaults:
  port: ${ports.dflt}
workspaces:
  staging:
    defaults:
      port: ${ports.staging}
sources:
  - id: hook
    connector: webhook
actors:
  - id: sink
    connector: webhook
    config: { url: "${sinkUrl}/\${ORGLOOP_WORKSPACE}/\${TIER}" }
routes:
  - name: hook-to-sink
    when: { source: hook }
    then: { actor: sink }
`;
}

async function twoWorkspaces(backend: { state?: (dir: string) => string }) {
  const sink = await startSink();
  cleanups.push(() => sink.close());
  const ports = { dflt: await freePort(), staging: await freePort() };
  const dir = tempProject({ 'orgloop.yaml': project(sink.url, ports), '.env': 'TIER=prod\n', '.env.staging': 'TIER=test\n' });
  const env = backend.state ? { ORGLOOP_STATE: backend.state(dir) } : {};
  const run = (args: string[], extra: NodeJS.ProcessEnv = {}) => cli(args, { cwd: dir, env: { ...env, ...extra } });
  // whatever happens, no executor outlives the test
  cleanups.push(() => run(['stop', '--timeout', '5s']));
  cleanups.push(() => run(['--workspace', 'staging', 'stop', '--timeout', '5s']));

  expect((await run(['workspace', 'list'])).stdout).toBe('* default\n');
  const bad = await run(['workspace', 'new', 'Staging']);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toBe('Error: workspace name "Staging" is not valid: use a lower-case letter, then up to 29 lower-case letters, digits or _ (try "staging")\n');
  const made = await run(['workspace', 'new', 'staging']);
  expect(made.stderr).toBe('');
  expect(made.stdout).toMatch(/^Created and switched to workspace "staging" \(state: .+\)\.\n$/);
  expect((await run(['workspace', 'new', 'staging'])).stderr).toBe('Error: workspace "staging" already exists\n');
  expect((await run(['workspace', 'list'])).stdout).toBe('  default\n* staging\n');
  expect((await run(['workspace', 'show'])).stdout).toBe('staging\n');

  // staging is selected: plan and apply say so, and plan what staging resolves to
  const plan = await run(['plan']);
  expect(plan.stderr).toBe('');
  expect(plan.stdout.startsWith('Workspace: staging\n\n')).toBe(true);
  expect(plan.stdout).toContain(`${sink.url}/staging/test`);
  const applyStaging = await run(['apply', '--auto-approve']);
  expect(applyStaging.code, applyStaging.stderr).toBe(0);
  expect(applyStaging.stdout.startsWith('Workspace: staging\n')).toBe(true);

  expect((await run(['workspace', 'select', 'nope'])).stderr).toBe('Error: workspace "nope" does not exist: `orgloop workspace new nope` creates it (or select it with --or-create)\n');
  expect((await run(['workspace', 'select', 'default'])).stdout).toBe('Switched to workspace "default".\n');
  const planDefault = await run(['plan']);
  expect(planDefault.stdout).not.toContain('Workspace:');
  expect(planDefault.stdout).toContain(`${sink.url}/default/prod`);
  expect((await run(['apply', '--auto-approve'])).code).toBe(0);
  // staging's own variable changes: applied there, its state moves on alone
  writeFileSync(join(dir, '.env.staging'), 'TIER=qa\n');
  const second = await run(['--workspace', 'staging', 'apply', '--auto-approve', '-m', 'second']);
  expect(second.stdout).toContain('1 changed');

  // each state holds its own versions and its own resolved config
  const histDefault = JSON.parse((await run(['history', '--json'])).stdout);
  const histStaging = JSON.parse((await run(['history', '--json'], { ORGLOOP_WORKSPACE: 'staging' })).stdout);
  expect(histDefault.map((v: { serial: number }) => v.serial)).toEqual([1]);
  expect(histStaging.map((v: { serial: number }) => v.serial)).toEqual([1, 2]);
  expect((await run(['state', 'show', 'actor.sink'])).stdout).toContain(`${sink.url}/default/prod`);
  expect((await run(['--workspace', 'staging', 'state', 'show', 'actor.sink'])).stdout).toContain(`${sink.url}/staging/qa`);
  expect((await run(['--workspace', 'staging', 'history'])).stdout.startsWith('Workspace: staging\n')).toBe(true);

  // both executors in the background at once, each on its workspace's port, pid file and log
  const startDefault = await run(['start', '--daemon']);
  expect(startDefault.code, startDefault.stderr).toBe(0);
  expect(startDefault.stdout).toContain(`listening on http://127.0.0.1:${ports.dflt}.`);
  const startStaging = await run(['--workspace', 'staging', 'start', '--daemon']);
  expect(startStaging.code, startStaging.stderr).toBe(0);
  expect(startStaging.stdout).toContain(`listening on http://127.0.0.1:${ports.staging}.`);
  expect(startStaging.stdout).toContain(`Log: ${join(dir, '.orgloop', 'workspaces', 'staging', 'orgloop.log')}`);
  expect(startStaging.stdout).toContain('Stop it with: orgloop --workspace staging stop\n');
  const pidOf = (f: string) => JSON.parse(readFileSync(f, 'utf8')).pid as number;
  const pids = [pidOf(join(dir, '.orgloop', 'orgloop.pid')), pidOf(join(dir, '.orgloop', 'workspaces', 'staging', 'orgloop.pid'))];
  expect(pids[0]).not.toBe(pids[1]);
  const urls = { dflt: `http://127.0.0.1:${ports.dflt}`, staging: `http://127.0.0.1:${ports.staging}` };
  expect([await healthy(urls.dflt), await healthy(urls.staging)]).toEqual([200, 200]);

  // an event into each reaches the actor as that workspace configured it
  for (const [url, n] of [[urls.dflt, 1], [urls.staging, 2]] as const) {
    const r = await fetch(`${url}/webhook/hook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) });
    expect(r.status).toBeLessThan(300);
  }
  await until(() => sink.received.length >= 2, 15_000, 'both deliveries');
  const byPath = Object.fromEntries(sink.received.map((r) => [r.path, r.body]));
  expect(Object.keys(byPath).sort()).toEqual(['/default/prod', '/staging/qa']);
  expect(JSON.stringify(byPath['/default/prod'])).toContain('"n":1');
  expect(JSON.stringify(byPath['/staging/qa'])).toContain('"n":2');

  const statusStaging = JSON.parse((await run(['--workspace', 'staging', 'status', '--json'])).stdout);
  expect(statusStaging.workspace).toBe('staging');
  expect(statusStaging.serial).toBe(2);
  expect(statusStaging.daemon).toMatchObject({ running: true, pid: pids[1], url: urls.staging });
  const statusDefault = JSON.parse((await run(['status', '--json'])).stdout);
  expect(statusDefault).toMatchObject({ workspace: 'default', serial: 1, daemon: { running: true, pid: pids[0] } });
  const eventsDefault = JSON.parse((await run(['events', 'list', '--json'])).stdout);
  expect(eventsDefault).toHaveLength(1);

  // what delete refuses
  expect((await run(['workspace', 'delete', 'default'])).stderr).toBe('Error: the default workspace cannot be deleted\n');
  expect((await run(['--workspace', 'staging', 'workspace', 'delete', 'staging'])).stderr).toBe(
    'Error: workspace "staging" is the one selected: select another first (`orgloop workspace select default`)\n',
  );
  const busy = await run(['workspace', 'delete', 'staging']);
  expect(busy.code).toBe(1);
  expect(busy.stderr).toContain('Error: workspace "staging" has 3 applied resource(s) (version 2; `orgloop --workspace staging destroy` removes them)');
  expect(busy.stderr).toContain(`an executor running in the background (pid ${pids[1]}; \`orgloop --workspace staging stop\`)`);
  expect(busy.stderr).toContain('Pass --force to delete it anyway');
  expect(await healthy(urls.staging)).toBe(200);

  // forced: the staging executor is stopped, its state and files go; default runs on untouched
  const forced = await run(['workspace', 'delete', 'staging', '--force']);
  expect(forced.code, forced.stderr).toBe(0);
  expect(forced.stdout).toContain(`Stopped the executor of workspace "staging" (pid ${pids[1]}).\n`);
  expect(forced.stdout).toContain('Deleted workspace "staging" (state: ');
  expect(await healthy(urls.staging)).toBe(0);
  expect(await healthy(urls.dflt)).toBe(200);
  expect(existsSync(join(dir, '.orgloop', 'workspaces', 'staging'))).toBe(false);
  expect((await run(['workspace', 'list'])).stdout).toBe('* default\n');
  const gone = await run(['--workspace', 'staging', 'status']);
  expect(gone.code).toBe(1);
  expect(gone.stderr).toBe('Error: workspace "staging" does not exist: `orgloop workspace new staging` creates it (`orgloop workspace list` shows those there are)\n');
  expect(JSON.parse((await run(['history', '--json'])).stdout)).toHaveLength(1);
  expect((await run(['stop'])).code).toBe(0);
  return dir;
}

describe('orgloop workspace', () => {
  it('SQLite: two workspaces applied with their own values, both executors at once, then deleted', async () => {
    const dir = await twoWorkspaces({});
    // default kept the path it always had
    expect(existsSync(join(dir, '.orgloop', 'state.db'))).toBe(true);
  }, 240_000);

  it.runIf(!!PG_URL)('Postgres: each workspace in a schema of its own', async () => {
    const base = `t_ws_${randomBytes(4).toString('hex')}`;
    schemas.push(base, `${base}_ws_staging`);
    const url = `${PG_URL}${PG_URL!.includes('?') ? '&' : '?'}schema=${base}`;
    await twoWorkspaces({ state: () => url });
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      const r = await c.query(`SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE $1 ORDER BY 1`, [`${base}%`]);
      expect(r.rows.map((x) => x.schema_name)).toEqual([base]);
    } finally {
      await c.end();
    }
  }, 240_000);

  it('ORGLOOP_WORKSPACE and --workspace come before the selection; a name is checked wherever it comes from', async () => {
    const dir = tempProject({ 'orgloop.yaml': 'sources: []\n' });
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) => cli(args, { cwd: dir, env });
    expect((await run(['workspace', 'new', 'qa', '--no-select'])).stdout).toMatch(/^Created workspace "qa" \(state: .*workspaces\/qa\/state\.db\)\.\n$/);
    expect((await run(['workspace', 'show'])).stdout).toBe('default\n');
    expect((await run(['workspace', 'show'], { ORGLOOP_WORKSPACE: 'qa' })).stdout).toBe('qa\n');
    expect((await run(['--workspace', 'qa', 'workspace', 'list'])).stdout).toBe('  default\n* qa\n');
    const sel = await run(['workspace', 'select', 'qa'], { ORGLOOP_WORKSPACE: 'default' });
    expect(sel.stdout).toBe('Switched to workspace "qa".\n');
    expect(sel.stderr).toBe('Note: ORGLOOP_WORKSPACE selects "default" for commands that pass it; without it they act on "qa".\n');
    expect(readFileSync(join(dir, '.orgloop', 'workspace'), 'utf8')).toBe('qa\n');
    expect(JSON.parse((await run(['workspace', 'show', '--json'])).stdout)).toMatchObject({ name: 'qa', from: 'selected', serial: 0, resources: 0, daemon: null });
    expect((await run(['workspace', 'show'], { ORGLOOP_WORKSPACE: 'Prod-EU' })).stderr).toBe(
      'Error: ORGLOOP_WORKSPACE "Prod-EU" is not valid: use a lower-case letter, then up to 29 lower-case letters, digits or _ (try "prod_eu")\n',
    );
    // a typo does not create a state
    expect((await run(['--workspace', 'qa2', 'apply', '--auto-approve'])).stderr).toContain('Error: workspace "qa2" does not exist');
    expect(existsSync(join(dir, '.orgloop', 'workspaces', 'qa2'))).toBe(false);
    expect((await run(['workspace', 'select', 'qa3', '--or-create'])).stdout).toBe('Created workspace "qa3".\nSwitched to workspace "qa3".\n');
    expect((await run(['workspace', 'select', 'default'])).stdout).toBe('Switched to workspace "default".\n');
    expect(existsSync(join(dir, '.orgloop', 'workspace'))).toBe(false);
    writeFileSync(join(dir, '.orgloop', 'workspace'), '../x\n');
    expect((await run(['workspace', 'show'])).stderr).toMatch(/^Error: .*\.orgloop\/workspace: workspace "\.\.\/x" is not valid/);
  });

  it('workspaces: in the project file is checked where it is written', async () => {
    const dir = tempProject({
      'orgloop.yaml': 'defaults:\n  port: 4800\nworkspaces:\n  Prod:\n    defaults: { port: 1 }\n  staging:\n    defaults:\n      port: "x"\nsources: []\n',
    });
    const r = await cli(['validate'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('orgloop.yaml:4:3: workspaces.Prod: a workspace name is a lower-case letter, then up to 29 lower-case letters, digits or _\n');
    expect(r.stderr).toContain('orgloop.yaml:8:13: workspaces.staging.defaults.port must be an integer\n');
  });

  it('a workspace\'s service has its own name and runs with --workspace', async () => {
    const dir = tempProject({ 'orgloop.yaml': 'name: shop\nsources: []\n' });
    const dflt = await cli(['service', 'install', '--print', '--platform', 'systemd'], { cwd: dir });
    const staging = await cli(['--workspace', 'staging', 'service', 'install', '--print', '--platform', 'systemd'], { cwd: dir });
    expect(dflt.stdout).not.toContain('--workspace');
    expect(staging.stdout).toMatch(/ExecStart=.* --workspace staging start\n/);
    expect(staging.stdout).toContain('Description=orgloop executor for shop (workspace staging)');
    expect(staging.stdout).toContain(`ORGLOOP_LOG_FILE=${join(dir, '.orgloop', 'workspaces', 'staging', 'orgloop.log')}`);

    // installed (not started): only for a workspace that exists; deleting the workspace names it
    const env = { XDG_CONFIG_HOME: join(dir, 'xdg') };
    expect((await cli(['--workspace', 'staging', 'service', 'install', '--no-start', '--platform', 'systemd'], { cwd: dir, env })).stderr).toBe(
      'Error: workspace "staging" does not exist: `orgloop workspace new staging` creates it\n',
    );
    expect((await cli(['workspace', 'new', 'staging', '--no-select'], { cwd: dir, env })).code).toBe(0);
    expect((await cli(['--workspace', 'staging', 'service', 'install', '--no-start', '--platform', 'systemd'], { cwd: dir, env })).code).toBe(0);
    expect((await cli(['service', 'install', '--no-start', '--platform', 'systemd'], { cwd: dir, env })).code).toBe(0);
    const del = await cli(['workspace', 'delete', 'staging'], { cwd: dir, env });
    expect(del.code).toBe(0);
    expect(del.stderr).toMatch(/^Warning: the service .*\/xdg\/systemd\/user\/orgloop-shop-staging-[0-9a-f]{8}\.service still runs workspace "staging": remove it with `orgloop --workspace staging service uninstall`\.\n$/);
  });
});
