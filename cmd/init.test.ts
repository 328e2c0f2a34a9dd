// `orgloop init` as a user runs it: a real child process, a real temp directory.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist/cmd/main.js');
const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1' };
const run = (args: string[], cwd: string) => {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('orgloop init', () => {
  it('writes what fmt would: fmt --check passes on a fresh project, with --connectors too, and on every shipped example', () => {
    for (const args of [['init'], ['init', '--connectors', 'github,slack,zendesk']]) {
      const dir = mkdtempSync(join(tmpdir(), 'orgloop-init-fmt-'));
      expect(run(args, dir).code).toBe(0);
      expect(run(['fmt', '--check'], dir)).toMatchObject({ code: 0, stderr: '' });
    }
    for (const example of readdirSync(join(root, 'examples'))) {
      const r = run(['fmt', '--check'], join(root, 'examples', example));
      expect({ example, ...r }).toMatchObject({ example, code: 0, stderr: '' });
    }
  });

  it('does not copy state or .env left in examples/quickstart by running it in place', () => {
    const quick = join(root, 'examples/quickstart');
    const hadState = existsSync(join(quick, '.orgloop'));
    mkdirSync(join(quick, '.orgloop'), { recursive: true });
    const marker = join(quick, '.orgloop', 'init-test-marker');
    writeFileSync(marker, 'x');
    try {
      const dir = mkdtempSync(join(tmpdir(), 'orgloop-init-'));
      const r = run(['init', '--json'], dir);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).files).toEqual(['.env.example', 'orgloop.yaml', 'sops/hello.md', '.gitignore', 'package.json']);
      expect(existsSync(join(dir, '.orgloop'))).toBe(false);
    } finally {
      rmSync(hadState ? marker : join(quick, '.orgloop'), { recursive: true });
    }
  });

  it('scaffolds an offline project that validates', () => {
    const parent = mkdtempSync(join(tmpdir(), 'orgloop-init-'));
    const r = run(['init', 'Acme Support'], parent);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'Created project "acme-support" in Acme Support:\n  .env.example\n  orgloop.yaml\n  sops/hello.md\n  .gitignore\n  package.json\n\nNext: cd "Acme Support" && orgloop up   (validate, plan, apply after you confirm, and start)\n',
    );
    const dir = join(parent, 'Acme Support');
    expect(readFileSync(join(dir, '.gitignore'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['.orgloop/', '.env']));
    const yaml = readFileSync(join(dir, 'orgloop.yaml'), 'utf8');
    expect(yaml).toMatch(/^name: acme-support$/m);
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))).toMatchObject({ name: 'acme-support', private: true, scripts: { start: 'orgloop up' } });
    expect(yaml).toMatch(/- id: webhook\s/);
    expect(existsSync(join(dir, 'sops/hello.md'))).toBe(true);
    const v = run(['validate', '--json'], dir);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout)).toEqual({ valid: true, errors: [], warnings: [], counts: { sources: 1, actors: 1, routes: 1, transforms: 0, loggers: 1 } });
  });

  it('--connectors asks for every field a connector needs (its own checks included): filled in, the project validates', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-init-conn-'));
    const r = run(['init', 'org', '--connectors', 'gmail,google-calendar,salesforce,zendesk,pagerduty,slack'], dir);
    expect(r.code).toBe(0);
    const project = join(dir, 'org');
    const vars = readFileSync(join(project, '.env.example'), 'utf8').split('\n').filter((l) => /^[A-Z0-9_]+=$/.test(l)).map((l) => l.slice(0, -1));
    expect(vars).toEqual(expect.arrayContaining(['GMAIL_CLIENT_ID', 'GMAIL_CLIENT_SECRET', 'GMAIL_REFRESH_TOKEN', 'GOOGLE_CALENDAR_REFRESH_TOKEN', 'SALESFORCE_INSTANCE_URL', 'SALESFORCE_TOKEN']));
    const unset = run(['validate'], project);
    expect(unset.code).toBe(0); // unset variables are warnings in validate
    writeFileSync(join(project, '.env'), vars.map((v) => `${v}=${v.endsWith('_URL') ? 'https://example.com/hook' : 'acme'}\n`).join(''));
    const filled = run(['validate'], project);
    expect(filled).toMatchObject({ code: 0, stderr: '' });
  });

  it('refuses to overwrite without --force, and overwrites with it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-init-'));
    writeFileSync(join(dir, 'orgloop.yaml'), 'sources: []\n');
    writeFileSync(join(dir, 'package.json'), '{"name":"mine"}\n');
    const r = run(['init'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`Error: ${dir} already has orgloop.yaml; nothing was written (use --force to overwrite these files)\n`);
    expect(readFileSync(join(dir, 'orgloop.yaml'), 'utf8')).toBe('sources: []\n');
    expect(existsSync(join(dir, 'sops'))).toBe(false);
    const f = run(['init', '--force', '--json'], dir);
    expect(f.code).toBe(0);
    // a package.json the directory already has is the user's: kept, not listed
    expect(JSON.parse(f.stdout).files).toEqual(['.env.example', 'orgloop.yaml', 'sops/hello.md', '.gitignore']);
    expect(readFileSync(join(dir, 'package.json'), 'utf8')).toBe('{"name":"mine"}\n');
    expect(run(['validate'], dir).code).toBe(0);
  });
});
