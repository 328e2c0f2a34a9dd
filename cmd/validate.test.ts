// `orgloop validate` as a user runs it: a real child process on the built CLI, from the repo root.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist/cmd/main.js');
// Only PATH/HOME: seed projects get their variables from their .env, never from the shell.
const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1' };

function run(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const valid = readdirSync(join(root, 'testdata/valid'));
const broken = readdirSync(join(root, 'testdata/broken'));

describe('orgloop validate on testdata/valid', () => {
  it.each(valid)('%s is valid', (name) => {
    const r = run(['-c', `testdata/valid/${name}/orgloop.yaml`, 'validate']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^✓ [\w-]+: \d+ sources?, \d+ actors?, \d+ routes?, \d+ transforms?, \d+ loggers?\n$/);
  });

  it('prints the counts', () => {
    const r = run(['-c', 'testdata/valid/multi-file/orgloop.yaml', 'validate']);
    expect(r.stdout).toBe('✓ ops-org: 2 sources, 2 actors, 3 routes, 2 transforms, 2 loggers\n');
  });
});

describe('orgloop validate on testdata/broken', () => {
  it.each(broken)('%s gives exactly its expected.txt and exit 1', (name) => {
    const expected = readFileSync(join(root, 'testdata/broken', name, 'expected.txt'), 'utf8');
    const r = run(['-c', `testdata/broken/${name}/orgloop.yaml`, 'validate']);
    expect(r.stderr).toBe(expected);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(1);
  });

  it('never prints a stack trace', () => {
    for (const name of broken) {
      const r = run(['-c', `testdata/broken/${name}/orgloop.yaml`, 'validate']);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('orgloop validate --json', () => {
  it('reports errors with positions', () => {
    const r = run(['-c', 'testdata/broken/unknown-refs/orgloop.yaml', 'validate', '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.valid).toBe(false);
    expect(out.counts).toBeNull();
    expect(out.errors[0]).toEqual({
      file: 'testdata/broken/unknown-refs/orgloop.yaml',
      line: 13,
      col: 21,
      message: 'route "typo-source": unknown source "helpdsk" in when.source (not a declared source or actor id); did you mean "helpdesk"?',
    });
    expect(out.errors).toHaveLength(5);
  });

  it('reports counts and warnings for a valid project', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-validate-'));
    writeFileSync(
      join(dir, 'orgloop.yaml'),
      'sources:\n  - id: hooks\n    connector: webhook\n    config: { colour: blue }\nactors:\n  - id: a\n    connector: command\n    config: { command: cat }\nroutes:\n  - name: r\n    when: { source: hooks }\n    then: { actor: a }\n',
    );
    const r = run(['-c', join(dir, 'orgloop.yaml'), 'validate', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ valid: true, errors: [], counts: { sources: 1, actors: 1, routes: 1, transforms: 0, loggers: 0 } });
    expect(out.warnings).toEqual([{ file: join(dir, 'orgloop.yaml'), line: 4, col: 15, message: 'source "hooks": unknown field config.colour (ignored)' }]);
    const human = run(['-c', join(dir, 'orgloop.yaml'), 'validate']);
    expect(human.code).toBe(0);
    expect(human.stderr).toBe(`${join(dir, 'orgloop.yaml')}:4:15: warning: source "hooks": unknown field config.colour (ignored)\n`);
    expect(human.stdout).toMatch(/^✓ .*1 source, 1 actor, 1 route, 0 transforms, 0 loggers \(1 warning\)\n$/);
  });

  it('a missing project file is a clear error, as JSON too', () => {
    const r = run(['-c', 'testdata/nope/orgloop.yaml', 'validate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: testdata/nope/orgloop.yaml: file not found (run `orgloop init` to create a project, or pass -c <file>)\n');
    const j = run(['-c', 'testdata/nope/orgloop.yaml', 'validate', '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout).errors[0].message).toMatch(/file not found/);
  });
});
