// What a new user meets in the first hour (issue 20), as they meet it: the real CLI in a child
// process, in a fresh project.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempProject, webhookProject } from './test-helpers/executor.js';

const PROJECT = webhookProject({ name: 'first' });

describe('read-only commands on a project never applied', () => {
  it('plan says there is no applied state and creates nothing; status, history and drift neither', async () => {
    const dir = tempProject({ 'orgloop.yaml': PROJECT });
    const state = join(dir, '.orgloop', 'state.db');
    const plan = await cli(['plan'], { cwd: dir });
    expect(plan.code).toBe(0);
    expect(plan.stderr).toBe('');
    expect(plan.stdout).toMatch(new RegExp(`^No applied state at ${state}: planning from nothing \\(plan creates nothing; \`orgloop apply\` creates it\\)\\.\n\n`));
    expect(plan.stdout).toContain('Plan: 3 to add, 0 to change, 0 to destroy.');
    const json = await cli(['plan', '--json'], { cwd: dir });
    expect(json.stderr).toBe(`No applied state at ${state}: planning from nothing (plan creates nothing; \`orgloop apply\` creates it).\n`);
    expect(JSON.parse(json.stdout).serial).toBe(0);
    const status = await cli(['status'], { cwd: dir });
    expect(status.stdout).toContain(`State: ${state} (none yet: nothing has been applied)\n`);
    expect((await cli(['history'], { cwd: dir })).stdout).toBe(`No versions yet: nothing has been applied to ${state}.\n`);
    expect((await cli(['drift'], { cwd: dir })).stderr).toBe(`Error: nothing has been applied yet in ${state}; there is nothing to compare\n`);
    expect(existsSync(join(dir, '.orgloop'))).toBe(false);

    // a saved plan names the state it applies to: -out creates it, and apply takes the plan
    const out = await cli(['plan', '-out', 'p.json'], { cwd: dir });
    expect(out.stderr).toBe('');
    expect(existsSync(state)).toBe(true);
    expect((await cli(['apply', 'p.json'], { cwd: dir })).code).toBe(0);
  });

  it('--help names both kinds of state store', async () => {
    expect((await cli(['--help'])).stdout).toMatch(/--state <path>\s+state store: a SQLite file path or a\s+postgres:\/\/\s+URL/);
  });
});

describe('likely typos', () => {
  const validate = (yaml: string) => {
    const dir = tempProject({ 'orgloop.yaml': yaml });
    return cli(['validate'], { cwd: dir }).then((r) => ({ ...r, stderr: r.stderr.replaceAll(join(dir, ''), '') }));
  };

  it('an unknown top-level key is an error that names the key it resembles', async () => {
    const r = await validate(PROJECT.replace('routes:', 'route:'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('orgloop.yaml:9:1: unknown field route (did you mean routes?)\n1 error found.\n');
  });

  it("an unknown key in a route's with is an error; elsewhere a warning with a suggestion", async () => {
    const withPrompt = await validate(PROJECT.replace('then: { actor: sink }', 'then: { actor: sink }\n    with: { prompt: "review it" }'));
    expect(withPrompt.code).toBe(1);
    expect(withPrompt.stderr).toMatch(/^orgloop\.yaml:13:13: route "hook-to-sink": unknown field with\.prompt \((did you mean prompt_file\?|expected one of: .*)\)\n1 error found\.\n$/);
  });

  it('an event type the source does not emit is a warning naming what it emits', async () => {
    const r = await validate(PROJECT.replace('when: { source: hook }', 'when: { source: hook, events: [resource.change] }'));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('orgloop.yaml:11:36: warning: route "hook-to-sink": "hook" (webhook) emits resource.changed, not resource.change (did you mean resource.changed?)\n');
  });

  it('an empty project file is an error', async () => {
    const r = await validate('');
    expect(r).toMatchObject({ code: 1, stderr: 'orgloop.yaml:1:1: the project file is empty: declare sources, actors and routes (`orgloop init` writes a working start)\n1 error found.\n' });
  });
});

describe('the package', () => {
  it('ships docs/, which --help points into', async () => {
    const { spawnSync } = await import('node:child_process');
    const root = join(import.meta.dirname, '..');
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
    const files = (JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['docs/DESIGN.md', 'docs/connectors.md', 'dist/cmd/main.js', 'examples/quickstart/orgloop.yaml']));
  });
});
