import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { loadProject } from './load.js';

// A project in <tmp>/work/proj, with a secret file beside it in <tmp>/work/outside.
function layout(prompt: string, extra = ''): { file: string; work: string } {
  const work = mkdtempSync(join(tmpdir(), 'orgloop-prompt-'));
  const proj = join(work, 'proj');
  mkdirSync(join(proj, 'sops'), { recursive: true });
  mkdirSync(join(work, 'outside'));
  writeFileSync(join(work, 'outside', 'secret.md'), 'CI_TOKEN=leaked\n');
  writeFileSync(join(proj, 'sops', 'ok.md'), 'Review it.\n');
  symlinkSync(join(work, 'outside', 'secret.md'), join(proj, 'sops', 'link-out.md'));
  symlinkSync(join(proj, 'sops', 'ok.md'), join(proj, 'sops', 'link-in.md'));
  const file = join(proj, 'orgloop.yaml');
  writeFileSync(
    file,
    `name: p
${extra}sources:
  - id: hooks
    connector: webhook
actors:
  - id: agent
    connector: command
    config: { command: "true" }
routes:
  - name: r
    when: { source: hooks, events: [resource.changed] }
    then: { actor: agent }
    with:
      prompt_file: ${prompt}
`,
  );
  return { file, work };
}

async function errors(file: string): Promise<string[]> {
  try {
    await loadProject(file, { env: {} });
  } catch (err) {
    if (err instanceof ConfigError) return err.diagnostics.filter((d) => d.severity === 'error').map((d) => `${basename(d.file)}:${d.line}:${d.col}: ${d.message}`);
    throw err;
  }
  return [];
}

describe('prompt_file stays inside the project', () => {
  for (const [what, prompt] of [
    ['a path up and out', '../outside/secret.md'],
    ['an absolute path to the process environment', '/proc/self/environ'],
    ['a symlink that points out of the project', './sops/link-out.md'],
  ] as const) {
    it(`refuses ${what} at file:line:col`, async () => {
      const { file, work } = layout(prompt);
      const out = await errors(file);
      expect(out).toHaveLength(1);
      expect(out[0]).toMatch(new RegExp(`^orgloop\\.yaml:14:20: route "r": prompt_file "${prompt.replace(/[./]/g, '\\$&')}" resolves to `));
      expect(out[0]).toContain('outside the project directory; move it into the project or list its directory under defaults.prompt_roots');
      if (prompt !== '/proc/self/environ') expect(out[0]).toContain(join(work, 'outside', 'secret.md'));
    });
  }

  it('accepts files inside, also through a symlink that stays inside', async () => {
    for (const prompt of ['./sops/ok.md', './sops/link-in.md']) {
      const p = await loadProject(layout(prompt).file, { env: {} });
      expect(Object.values(p.prompts)).toEqual(['Review it.\n']);
    }
  });

  it('accepts a root the project lists under defaults.prompt_roots, and names a listed root that does not exist', async () => {
    const { file } = layout('../outside/secret.md', 'defaults:\n  prompt_roots: [../outside]\n');
    expect(Object.values((await loadProject(file, { env: {} })).prompts)).toEqual(['CI_TOKEN=leaked\n']);
    const missing = layout('./sops/ok.md', 'defaults:\n  prompt_roots: [../nowhere]\n');
    expect(await errors(missing.file)).toEqual([expect.stringMatching(/^orgloop\.yaml:3:18: defaults\.prompt_roots: \.\.\/nowhere does not exist$/)]);
  });
});
