// The git commit recorded with each apply, as `orgloop history` shows it: a real git work tree
// in a temp dir, the CLI as a child process, a real SQLite state file.

import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempProject, webhookProject } from './test-helpers/executor.js';

const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { encoding: 'utf8' }).trim();

async function rows(dir: string) {
  const r = await cli(['history', '--json'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Array<{ serial: number; kind: string; git: { commit: string; dirty: boolean } | null }>;
}

describe('history records the git commit of each apply', () => {
  it('clean, dirty and destroy applies carry HEAD; the state directory does not make the tree dirty', async () => {
    const dir = tempProject({ 'orgloop.yaml': webhookProject() });
    git(dir, 'init', '-q');
    git(dir, 'add', 'orgloop.yaml');
    git(dir, 'commit', '-qm', 'one');
    const head1 = git(dir, 'rev-parse', 'HEAD');
    expect((await cli(['apply', '--auto-approve'], { cwd: dir })).code).toBe(0);

    appendFileSync(join(dir, 'orgloop.yaml'), '  - name: second\n    when: { source: hook }\n    then: { actor: sink }\n');
    expect((await cli(['apply', '--auto-approve'], { cwd: dir })).code).toBe(0);

    git(dir, 'commit', '-qam', 'two');
    const head2 = git(dir, 'rev-parse', 'HEAD');
    expect((await cli(['destroy', '--auto-approve'], { cwd: dir })).code).toBe(0);

    expect((await rows(dir)).map((r) => [r.serial, r.kind, r.git])).toEqual([
      [1, 'apply', { commit: head1, dirty: false }],
      [2, 'apply', { commit: head1, dirty: true }],
      [3, 'destroy', { commit: head2, dirty: false }],
    ]);
    const text = await cli(['history'], { cwd: dir });
    expect(text.stdout).toMatch(/SERIAL\s+TIME\s+WHO\s+KIND\s+COMMIT\s+CHANGES/);
    expect(text.stdout).toContain(head1.slice(0, 12) + '-dirty');
    expect(text.stdout).toContain(head2.slice(0, 12) + ' ');
  });

  it('outside a git work tree the commit is null and shown as "-"', async () => {
    const dir = tempProject({ 'orgloop.yaml': webhookProject() });
    expect((await cli(['apply', '--auto-approve'], { cwd: dir, env: { GIT_CEILING_DIRECTORIES: join(dir, '..') } })).code).toBe(0);
    expect((await rows(dir))[0]!.git).toBeNull();
    expect((await cli(['history'], { cwd: dir })).stdout).toMatch(/apply\s+-\s+/);
  });
});
