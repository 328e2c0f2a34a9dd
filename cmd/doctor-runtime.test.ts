// `orgloop doctor` on the quickstart's shape: it checks the state, the executor and the port (not
// only providers with credentials), and shows progress on a terminal. Real CLI child processes,
// a real executor, a real port held by another program, and a pseudo-terminal.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, runExecutor, tempProject } from './test-helpers/executor.js';
import { ptyRun } from './test-helpers/pty.js';

const YAML = `name: quick
sources:
  - id: webhook
    connector: webhook
actors:
  - id: inbox
    connector: command
    config: { command: 'cat >> inbox.jsonl' }
routes:
  - name: webhook-to-inbox
    when: { source: webhook }
    then: { actor: inbox }
`;

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const rowOf = (stdout: string, address: string) => stdout.split('\n').find((l) => l.startsWith(`${address} `)) ?? '';

describe('orgloop doctor: state, executor, port', () => {
  it('before apply: state and executor to look at; a port another program holds fails', async () => {
    const dir = tempProject({ 'orgloop.yaml': YAML });
    const blocker = http.createServer((_q, r) => r.end('not orgloop'));
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = String((blocker.address() as AddressInfo).port);
    try {
      const r = await cli(['doctor'], { cwd: dir, env: { ORGLOOP_PORT: port } });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('');
      expect(rowOf(r.stdout, 'state')).toMatch(/warn\s+no applied state at .*\.orgloop\/state\.db: `orgloop apply` creates it/);
      expect(rowOf(r.stdout, 'executor')).toMatch(/warn\s+none running: `orgloop start`/);
      expect(rowOf(r.stdout, 'port')).toContain(`FAIL    127.0.0.1:${port} is in use by another program: \`orgloop start\` would fail`);
      expect(rowOf(r.stdout, 'source.webhook')).toMatch(/skip|ok/);
      expect(r.stdout).toMatch(/quick: \d+ passed, 1 failed, 2 to look at, \d+ skipped\.\n$/);
    } finally {
      blocker.close();
    }
  });

  it('applied and running: state, executor and port pass; an edited YAML is flagged', async () => {
    const dir = tempProject({ 'orgloop.yaml': YAML });
    const port = String(await freePort());
    expect((await cli(['apply', '--auto-approve'], { cwd: dir })).code).toBe(0);
    const free = await cli(['doctor'], { cwd: dir, env: { ORGLOOP_PORT: port } });
    expect(rowOf(free.stdout, 'port')).toContain(`ok      127.0.0.1:${port} is free for \`orgloop start\``);
    expect(rowOf(free.stdout, 'state')).toMatch(/ok\s+.*state\.db: version 1 applied, the same as orgloop\.yaml/);

    const ex = await runExecutor(['start'], { cwd: dir, env: { ORGLOOP_PORT: port } });
    try {
      const r = await cli(['doctor', '--json'], { cwd: dir, env: { ORGLOOP_PORT: port } });
      expect(r.code).toBe(0);
      const checks = JSON.parse(r.stdout).checks as Array<{ address: string; status: string; detail: string }>;
      const executor = checks.find((c) => c.address.startsWith('executor.'))!;
      expect(executor.status).toBe('ok');
      expect(executor.detail).toMatch(/^pid \d+ on .*, heartbeat \d+s ago, running version 1$/);
      expect(checks.find((c) => c.address === 'port')).toMatchObject({ status: 'ok', detail: `127.0.0.1:${port} answers as orgloop (project quick, version 1)` });

      writeFileSync(join(dir, 'orgloop.yaml'), YAML.replace('cat >> inbox.jsonl', 'cat >> other.jsonl'));
      const edited = await cli(['doctor'], { cwd: dir, env: { ORGLOOP_PORT: port } });
      expect(rowOf(edited.stdout, 'state')).toMatch(/warn\s+version 1 applied; orgloop\.yaml differs from it \(0 to add, 1 to change, 0 to destroy\): `orgloop plan`, then `orgloop apply`/);
    } finally {
      await ex.stop();
    }
  });

  it('shows progress on a terminal, and clears it before the table', async () => {
    const dir = tempProject({ 'orgloop.yaml': YAML });
    const r = await ptyRun(['doctor', '--timeout', '5s'], { cwd: dir, env: { ORGLOOP_PORT: '0' } });
    expect(r.output).toMatch(/Checking 5 things \(each within 5s\)\.\.\.\r\n/);
    const ESC = String.fromCharCode(27);
    expect(r.output.split(`\r${ESC}[K`).filter((s) => /^ {2}5\/5 done \(last: [\w.]+ \w+\)$/.test(s))).toHaveLength(1);
    expect(r.output).toMatch(/RESOURCE\s+PROVIDER\s+STATUS\s+DETAIL/);
    expect(r.code).toBe(0);
  });
});

describe('doctor wording', () => {
  it('a check that timed out says so instead of fetch\'s "operation was aborted"', async () => {
    const { explainTimeout } = await import('../engine/doctor/runtime.js');
    const row = { address: 'source.github', provider: 'github', status: 'fail' as const, detail: 'The operation was aborted due to timeout' };
    expect(explainTimeout(row, 20_000).detail).toBe('no answer in time (doctor allows each check 20s, `--timeout 1m` waits longer): is the service reachable from here?');
    const other = { ...row, detail: 'GitHub rejected the token (401 Bad credentials)' };
    expect(explainTimeout(other, 20_000)).toBe(other);
  });
});
