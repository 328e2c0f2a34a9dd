// `orgloop init` on a real terminal (a pty) asks what to build; with flags it asks nothing.

import { existsSync, mkdtempSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './test-helpers/executor.js';
import { ptyRun } from './test-helpers/pty.js';

describe('orgloop init, interactive', () => {
  it('asks for the name, sources, actors and the Claude Code hook, and writes a project that validates and is formatted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-init-tty-'));
    const r = await ptyRun(['init'], {
      cwd: dir,
      answers: [
        ['Project name \\[orgloop-init-tty-\\w+\\]: ', 'my-org\r'],
        ['Sources to add \\(comma-separated, Enter for none\\): ', 'github\r'],
        ['Actors to add \\(comma-separated, Enter for none\\): ', 'slack\r'],
        ['Install the Claude Code Stop hook .*\\[y/N\\]: ', 'y\r'],
      ],
    });
    expect(r.unanswered).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/Sources: .*\bgithub\b.*\blinear\b/);
    expect(r.output).toMatch(/Actors: .*\bslack\b/);
    expect(r.output).toContain('Created project "my-org" in .:');
    expect(r.output).toContain('  .claude/settings.json');

    const yaml = readFileSync(join(dir, 'orgloop.yaml'), 'utf8');
    expect(yaml).toMatch(/^name: my-org$/m);
    expect(yaml).toMatch(/connector: github\b/);
    expect(yaml).toMatch(/connector: slack\b/);
    expect(yaml).toMatch(/connector: claude-code\b/);
    const settings = JSON.parse(readFileSync(join(dir, '.claude', 'settings.json'), 'utf8'));
    expect(settings.hooks.Stop).toEqual([{ hooks: [{ type: 'command', command: 'orgloop hook claude-code-stop', timeout: 10 }] }]);
    expect(readFileSync(join(dir, '.env.example'), 'utf8')).toMatch(/GITHUB_/);

    expect((await cli(['validate'], { cwd: dir })).code).toBe(0);
    expect((await cli(['fmt', '--check'], { cwd: dir })).code).toBe(0);
  });

  it('Enter everywhere gives the plain scaffold named after the directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-init-tty-'));
    const r = await ptyRun(['init'], { cwd: dir, answers: [['name \\[.*\\]: ', '\r'], ['Sources to add.*: ', '\r'], ['Actors to add.*: ', '\r'], ['\\[y/N\\]: ', '\r']] });
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'orgloop.yaml'), 'utf8')).toMatch(/^name: orgloop-init-tty-/m);
    expect(existsSync(join(dir, '.claude'))).toBe(false);
  });

  it('with --no-interactive (or --connectors, --name, --claude-hook) asks nothing, also on a terminal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-init-tty-'));
    // an existing settings file keeps what it had
    mkdirSync(join(dir, '.claude'));
    writeFileSync(join(dir, '.claude', 'settings.json'), JSON.stringify({ model: 'opus', hooks: { Stop: [{ hooks: [{ type: 'command', command: 'say done' }] }] } }));
    const r = await ptyRun(['init', '--no-interactive', '--name', 'scripted', '--claude-hook'], { cwd: dir, timeoutMs: 20_000 });
    expect(r.code).toBe(0);
    expect(r.output).not.toContain('Project name');
    expect(readFileSync(join(dir, 'orgloop.yaml'), 'utf8')).toMatch(/^name: scripted$/m);
    const settings = JSON.parse(readFileSync(join(dir, '.claude', 'settings.json'), 'utf8'));
    expect(settings.model).toBe('opus');
    expect(settings.hooks.Stop.map((g: { hooks: Array<{ command: string }> }) => g.hooks[0]!.command)).toEqual(['say done', 'orgloop hook claude-code-stop']);

    const bad = await cli(['init', '--name', 'Bad Name'], { cwd: mkdtempSync(join(tmpdir(), 'orgloop-init-')) });
    expect(bad.stderr).toBe('Error: invalid project name "Bad Name": use lower-case letters, digits, - and _, starting with a letter or digit\n');

    const help = (await cli(['init', '--help'])).stdout;
    for (const f of ['orgloop.yaml', 'sops/hello.md', '.env.example', '.gitignore', 'package.json', '.claude/settings.json']) expect(help).toContain(`  ${f} `);
  });
});
