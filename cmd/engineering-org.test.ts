// End-to-end: examples/engineering-org against local fakes of GitHub, Linear, the OpenClaw
// gateway, Google (Gmail), the Docker Engine and kind (the same provider code as production;
// only base URLs, the socket and the kind binary differ), through the real CLI.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli, runExecutor, until, type RunningExecutor } from './test-helpers/executor.js';
import { startFakeGithub, type FakeGithub } from '../test/fakes/github.js';
import { startFakeLinear, type FakeLinear } from '../test/fakes/linear.js';
import { startFakeOpenclaw, type FakeOpenclaw } from '../test/fakes/openclaw.js';
import { startFakeGoogle, type FakeGoogle } from '../test/fakes/google.js';
import { startFakeDocker, type FakeDocker } from '../test/fakes/docker.js';
import { installFakeKind, type FakeKind } from '../test/fakes/kind.js';

const EXAMPLE = resolve(dirname(fileURLToPath(import.meta.url)), '../examples/engineering-org');

let gh: FakeGithub;
let ln: FakeLinear;
let oc: FakeOpenclaw;
let google: FakeGoogle;
let docker: FakeDocker;
let kind: FakeKind;
let env: NodeJS.ProcessEnv;
const running: RunningExecutor[] = [];

beforeAll(async () => {
  [gh, ln, oc, google, docker] = await Promise.all([startFakeGithub({ token: 'gh-tok' }), startFakeLinear({ apiKey: 'lin_api_tok' }), startFakeOpenclaw({ token: 'oc-tok' }), startFakeGoogle(), startFakeDocker()]);
  kind = installFakeKind();
  gh.repo('acme/api');
  env = {
    GITHUB_REPO: 'acme/api',
    GITHUB_TOKEN: 'gh-tok',
    GITHUB_API_URL: gh.url,
    LINEAR_API_KEY: 'lin_api_tok',
    LINEAR_API_URL: ln.url,
    OPENCLAW_URL: oc.url,
    OPENCLAW_TOKEN: 'oc-tok',
    GOOGLE_CLIENT_ID: google.clientId,
    GOOGLE_CLIENT_SECRET: google.clientSecret,
    GOOGLE_REFRESH_TOKEN: google.refreshToken,
    GOOGLE_TOKEN_URL: google.tokenUrl,
    GMAIL_API_URL: google.url,
    DOCKER_SOCKET: docker.socket,
    KIND_PATH: kind.bin,
  };
});
afterAll(async () => {
  await Promise.all([gh.close(), ln.close(), oc.close(), google.close(), docker.close()]);
  kind.close();
});
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

function copyExample(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orgloop-eng-'));
  cpSync(EXAMPLE, dir, { recursive: true });
  return dir;
}

const STOP = {
  session_id: 'sess-42',
  transcript_path: '/home/dev/.claude/projects/api/sess-42.jsonl',
  cwd: '/home/dev/api',
  permission_mode: 'default',
  hook_event_name: 'Stop',
  stop_hook_active: false,
};

describe('examples/engineering-org', () => {
  it('validates and plans; without credentials it names each missing variable', async () => {
    const dir = copyExample();
    const v = await cli(['validate'], { cwd: dir, env });
    expect(v.stderr).toBe('');
    expect(v.stdout).toContain('engineering-org: 5 sources, 4 actors, 9 routes, 1 transform, 2 loggers');
    expect(v.code).toBe(0);
    const p = await cli(['plan'], { cwd: dir, env });
    expect(p.code).toBe(0);
    expect(p.stdout).toContain('Plan: 21 to add, 0 to change, 0 to destroy.');
    // the documented first step, `cp .env.example .env`: validate and plan run on its placeholders
    copyFileSync(join(dir, '.env.example'), join(dir, '.env'));
    const fromExample = await cli(['validate'], { cwd: dir, env: {} });
    expect(fromExample).toMatchObject({ code: 0, stderr: '' });
    const planExample = await cli(['plan'], { cwd: dir, env: {} });
    expect(planExample).toMatchObject({ code: 0, stderr: '' });
    expect(planExample.stdout).toContain('Plan: 21 to add, 0 to change, 0 to destroy.');
    expect(planExample.stdout).not.toContain('replace-with-the-refresh-token'); // sensitive: shown only as (sensitive)
    rmSync(join(dir, '.env'));
    // validate needs no secrets (as upstream's and terraform's): unset variables are warnings
    // there and errors in plan
    const bareValidate = await cli(['validate'], { cwd: dir, env: { GITHUB_REPO: 'acme/api' } });
    expect(bareValidate.code).toBe(0);
    expect(bareValidate.stderr).toMatch(/orgloop\.yaml:\d+:\d+: warning: source "github": config\.token: environment variable GITHUB_TOKEN is not set \(plan, apply and start need it\)/);
    const bare = await cli(['plan'], { cwd: dir, env: { GITHUB_REPO: 'acme/api' } });
    expect(bare.code).toBe(1);
    expect(bare.stderr).toMatch(/orgloop\.yaml:\d+:\d+: source "github": config\.token: environment variable GITHUB_TOKEN is not set/);
    expect(bare.stderr).toMatch(/actor "supervisor": config\.auth_token_env: environment variable OPENCLAW_TOKEN is not set/);
  });

  it('doctor checks GitHub, Linear and OpenClaw and exits 1 naming what failed', async () => {
    const dir = copyExample();
    // port 0: the port check does not depend on what else listens on 4800 on this machine
    const ok = await cli(['doctor'], { cwd: dir, env: { ...env, ORGLOOP_PORT: '0' } });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/source\.github\s+github\s+ok\s+authenticated as octocat/);
    expect(ok.stdout).toMatch(/source\.linear\s+linear\s+ok\s+authenticated as Ada Lovelace/);
    expect(ok.stdout).toMatch(/actor\.supervisor\s+openclaw\s+ok\s+gateway .* healthy/);
    expect(ok.stdout).toMatch(/source\.gmail\s+gmail\s+ok\s+reading ops@acme\.com/);
    expect(ok.stdout).toMatch(/actor\.dev-cluster\s+docker\s+ok\s+Docker Engine 27\.0\.3 reachable; kind v0\.23\.0/);
    expect(ok.stdout).toMatch(/state\s+state\s+warn\s+no applied state at .*state\.db: `orgloop apply` creates it/);
    expect(ok.stdout).toMatch(/executor\s+executor\s+warn\s+none running: `orgloop start`/);
    expect(ok.stdout).toContain('engineering-org: 7 passed, 0 failed, 2 to look at, 6 skipped.');

    const bad = await cli(['doctor', '--json'], { cwd: dir, env: { ...env, GITHUB_TOKEN: 'expired', OPENCLAW_TOKEN: 'wrong' } });
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.stdout);
    expect(report.ok).toBe(false);
    const byAddr = Object.fromEntries(report.checks.map((c: { address: string }) => [c.address, c]));
    expect(byAddr['source.github']).toMatchObject({ status: 'fail', detail: expect.stringContaining('GitHub rejected the token (401 Bad credentials)') });
    expect(byAddr['actor.engineering-agent']).toMatchObject({ status: 'fail', detail: expect.stringContaining('rejected the hooks token') });
    expect(byAddr['source.linear']).toMatchObject({ status: 'ok' });
    expect(bad.stdout).not.toContain('expired'); // secrets never printed

    const broken = await cli(['doctor'], { cwd: dir, env: { GITHUB_REPO: 'acme/api' } });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toMatch(/^orgloop\.yaml:\d+:\d+: source "github": config\.token: environment variable GITHUB_TOKEN is not set/m);
  });

  it('a Claude Code Stop hook piped to `orgloop hook claude-code-stop` wakes the supervisor', async () => {
    const dir = copyExample();
    const applied = await cli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const ex = await runExecutor(['start', '--port', '0'], { cwd: dir, env });
    running.push(ex);

    // a transcript as Claude Code writes it: the hook sends the last assistant text as the summary
    const transcript = join(dir, 'sess-42.jsonl');
    writeFileSync(
      transcript,
      [
        { type: 'user', message: { role: 'user', content: 'add rate limiting' } },
        { type: 'assistant', message: { role: 'assistant', content: [{ type: 'tool_use', name: 'Edit' }] } },
        { type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text: 'Rate limiting is in; tests pass.' }] } },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n') + '\n',
    );
    const before = oc.state.runs.length;
    const hook = await cli(['hook', 'claude-code-stop', '--url', ex.url], { cwd: '/', input: JSON.stringify({ ...STOP, transcript_path: transcript }) });
    expect(hook).toEqual({ code: 0, stdout: '', stderr: '' });

    await oc.waitForRuns(before + 1).catch((err) => {
      throw new Error(`${err.message}\n${ex.output()}`);
    });
    const run = oc.state.runs[before]!;
    expect(run.headers.authorization).toBe('Bearer oc-tok');
    expect(run.body).toMatchObject({ agentId: 'supervisor', sessionKey: 'cc-sess-42', wakeMode: 'now' });
    // the Stop hook is a completed session in OrgLoop's lifecycle contract
    expect(run.body.message).toContain('[claude-code] actor.stopped (session.completed) by claude-code');
    expect(run.body.message).toContain('# SOP: a Claude Code session stopped');
    expect(run.body.message).toContain(`"transcript_path": "${transcript}"`);
    expect(run.body.message).toContain('"summary": "Rate limiting is in; tests pass."');
    expect(run.body.message).toContain('"outcome": "completed"');
  });

  it('Gmail triage wakes the triage agent per thread; the dev cluster comes up on its schedule through kind', async () => {
    const dir = copyExample();
    const e2e = { ...env, POLL_INTERVAL: '1s', CLUSTER_UP_CRON: 'every 1s', KIND_CLUSTER: 'eng-dev' };
    const applied = await cli(['apply', '--auto-approve'], { cwd: dir, env: e2e });
    expect(applied.code).toBe(0);
    const profiles = () => google.requests.filter((r) => r.path.endsWith('/profile')).length;
    const seen = profiles(); // doctor read the profile too
    const ex = await runExecutor(['start', '--port', '0'], { cwd: dir, env: e2e });
    running.push(ex);
    // the first Gmail poll fixes the starting point in the mailbox history
    await until(() => profiles() > seen, 20_000, 'the first Gmail poll');
    const before = oc.state.runs.length;
    google.deliver({ from: 'Grace <grace@customer.com>', subject: 'Checkout is down for EU users', snippet: 'Since 09:12 every EU checkout fails', labels: ['INBOX', 'UNREAD', 'IMPORTANT'] });
    google.deliver({ from: 'news@vendor.com', subject: 'Our spring sale', labels: ['INBOX', 'CATEGORY_PROMOTIONS'] }); // not important: the query leaves it out
    await oc.waitForRuns(before + 1).catch((err) => {
      throw new Error(`${err.message}\n${ex.output()}`);
    });
    const run = oc.state.runs.slice(before).find((r) => r.body.agentId === 'triage')!;
    expect(run.body).toMatchObject({ agentId: 'triage', wakeMode: 'now' });
    expect(run.body.sessionKey).toMatch(/^mail-[0-9a-f]+$/);
    expect(run.body.message).toContain('Checkout is down for EU users');
    expect(run.body.message).toContain('# SOP: triage an incoming email');
    expect(oc.state.runs.slice(before).some((r) => String(r.body.message).includes('spring sale'))).toBe(false);
    // cluster management: the cron schedule fires cluster.start, kind creates the cluster once
    await until(() => kind.clusters().includes('eng-dev'), 20_000, 'the kind cluster');
    const creates = kind.argv().filter((a) => a[0] === 'create');
    expect(creates[0]).toEqual(['create', 'cluster', '--name', 'eng-dev', '--config', join(dir, 'kind/dev-cluster.yaml')]);
    await until(() => kind.argv().filter((a) => a[0] === 'get').length >= 2, 20_000, 'a second cluster-up');
    expect(kind.argv().filter((a) => a[0] === 'create')).toHaveLength(1);
  }, 60_000);

  it('the hook never blocks Claude Code: executor down -> warning and exit 0; bad input -> exit 1 with a message', async () => {
    // a port nothing listens on
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    await new Promise((r) => srv.close(r));
    const downUrl = `http://127.0.0.1:${port}`;
    const down = await cli(['hook', 'claude-code-stop', '--url', downUrl, '--timeout', '2s'], { input: JSON.stringify(STOP) });
    expect(down.code).toBe(0);
    expect(down.stdout).toBe('');
    expect(down.stderr).toMatch(/orgloop hook: session sess-42 not recorded: executor not reachable at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\); is `orgloop start` running\?/);
    const quiet = await cli(['hook', 'claude-code-stop', '--url', downUrl, '--timeout', '1s', '-q'], { input: JSON.stringify(STOP) });
    expect(quiet).toEqual({ code: 0, stdout: '', stderr: '' });
    const junk = await cli(['hook', 'claude-code-stop'], { input: 'not json' });
    expect(junk.code).toBe(1);
    expect(junk.stderr).toContain('orgloop hook: stdin is not JSON');
    const noSession = await cli(['hook', 'claude-code-stop'], { input: '{"cwd":"/x"}' });
    expect(noSession.code).toBe(1);
    expect(noSession.stderr).toContain('stdin has no session_id');
  });
});
