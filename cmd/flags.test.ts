// Duration flags take the grammar config uses (providers/lib/duration.ts), on every command:
// a real child process on the built CLI.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = join(import.meta.dirname, '..', 'dist/cmd/main.js');
// ORGLOOP_PORT=0: doctor's port check does not depend on what else listens on 4800 here
const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ORGLOOP_PORT: '0' };

function run(args: string[], cwd: string, input?: string) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, env, encoding: 'utf8', input });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('duration flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orgloop-flags-'));
  writeFileSync(
    join(dir, 'orgloop.yaml'),
    'name: flags\nsources:\n  - id: tick\n    connector: cron\n    config: { every: 1h }\nactors:\n  - id: echo\n    connector: command\n    config: { command: "true" }\nroutes:\n  - name: r\n    when: { source: tick }\n    then: { actor: echo }\n',
  );

  it('doctor takes --timeout as a duration, and says which unit a bare number needs', () => {
    const ok = run(['doctor', '--timeout', '1500ms'], dir);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const bare = run(['doctor', '--timeout', '20'], dir);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toBe('Error: --timeout must be a duration like 30s, 2m or 1500ms (got "20"; add a unit, e.g. 20s)\n');
    expect(run(['doctor', '--timeout', '0s'], dir).stderr).toBe('Error: --timeout must be greater than zero (got "0s")\n');
  });

  it('hook and apply read the same grammar', () => {
    const hook = run(['hook', 'claude-code-stop', '--timeout', '1.5 seconds', '--url', 'http://127.0.0.1:9'], dir, '{"session_id":"s"}');
    expect(hook.stderr).toContain('--timeout must be a duration like 30s');
    expect(hook.code).toBe(1);
    const lock = run(['apply', '--auto-approve', '--lock-timeout', '1h30m', '--state', join(dir, 'state.db')], dir);
    expect(lock.stderr).toBe('');
    expect(lock.code).toBe(0);
  });
});
