// What a Terraform user reaches for, run as the CLI: `show` of the applied state (secrets
// masked), `fmt -diff`, and `import` of an existing GitHub webhook (against the fake GitHub) so
// apply adopts it instead of creating a duplicate. Also history's colours.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cli, tempProject } from './test-helpers/executor.js';
import { fakeGithubForFile, githubHookSource, GITHUB_TOKEN } from './test-helpers/github-hook.js';

const SECRET = 'hook-secret-value-7f3a9c';

const YAML = `sources:
  - id: hooks
    connector: webhook
    config: { secret: "\${HOOK_SECRET}" }
actors:
  - id: worker
    connector: command
    config: { command: "cat > /dev/null" }
routes:
  - name: triage
    when: { source: hooks, events: [resource.changed] }
    then: { actor: worker }
`;

async function ok(dir: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = await cli(args, { cwd: dir, env });
  if (r.code !== 0) throw new Error(`orgloop ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

describe('orgloop show without a plan file', () => {
  it('says there is no applied state, creating nothing; then shows the applied version with secrets masked, as text and JSON', async () => {
    const dir = tempProject({ 'orgloop.yaml': YAML, '.env': `HOOK_SECRET=${SECRET}\n` });
    const none = await ok(dir, ['show']);
    expect(none.stdout).toContain(`No applied state at ${join(dir, '.orgloop/state.db')}`);
    expect((await ok(dir, ['show', '--json'])).stdout).toContain('"serial": 0');

    await ok(dir, ['apply', '--auto-approve', '-m', 'first apply']);
    const text = (await ok(dir, ['show'])).stdout;
    expect(text).toMatch(/^State .*state\.db: version 1 \(apply\), \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ by /);
    expect(text).toContain('message: first apply');
    expect(text).toContain('# source.hooks [webhook]');
    expect(text).toMatch(/config\.secret += \(sensitive value from \$\{HOOK_SECRET\}\)/);
    expect(text).toMatch(/# route\.triage \[route\]\n(.*\n)*? {4}depends_on += actor\.worker, source\.hooks/);
    expect(text).toContain('3 resources.');

    const json = JSON.parse((await ok(dir, ['show', '--json'])).stdout);
    expect(json.serial).toBe(1);
    expect(json.version).toMatchObject({ kind: 'apply', message: 'first apply' });
    expect(json.version.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(json.resources.map((r: { address: string }) => r.address)).toEqual(['actor.worker', 'route.triage', 'source.hooks']);
    expect(json.resources[2].attributes.config.secret).toBe('(sensitive value from ${HOOK_SECRET})');

    // neither the value nor its stored hash leaves through show
    const pulled = JSON.parse((await ok(dir, ['state', 'pull'])).stdout);
    const hash: string = pulled.snapshot.resources['source.hooks'].attributes.config.secret.$secret.hash;
    for (const out of [text, JSON.stringify(json)]) {
      expect(out).not.toContain(SECRET);
      expect(out).not.toContain(hash);
    }

    // a plan file is still rendered as before; markdown is for plan files only
    await ok(dir, ['plan', '-out', 'p.plan']);
    expect((await ok(dir, ['show', 'p.plan'])).stdout).toContain('No changes.');
    const md = await cli(['show', '--format', 'markdown'], { cwd: dir });
    expect(md.code).toBe(1);
    expect(md.stderr).toContain('--format markdown renders plan files only');
  }, 60_000);
});

describe('orgloop fmt -diff', () => {
  const messy = YAML.replace('{ source: hooks, events', '{source: hooks,   events');

  it('prints a unified diff of what it changes; with --check it writes nothing and exits 1', async () => {
    const dir = tempProject({ 'orgloop.yaml': messy });
    const checked = await cli(['fmt', '-diff', '-check'], { cwd: dir });
    expect(checked.code).toBe(1);
    expect(checked.stdout).toBe(
      [
        '--- a/orgloop.yaml',
        '+++ b/orgloop.yaml',
        '@@ -8,5 +8,5 @@',
        '     config: { command: "cat > /dev/null" }',
        ' routes:',
        '   - name: triage',
        '-    when: {source: hooks,   events: [resource.changed] }',
        '+    when: { source: hooks, events: [resource.changed] }',
        '     then: { actor: worker }',
        '',
      ].join('\n'),
    );
    expect(checked.stderr).toContain('1 file not formatted');
    expect(readFileSync(join(dir, 'orgloop.yaml'), 'utf8')).toBe(messy);

    const json = JSON.parse((await cli(['fmt', '--diff', '--check', '--json'], { cwd: dir })).stdout);
    expect(json).toEqual([{ file: 'orgloop.yaml', changed: true, diff: checked.stdout.trimEnd() }]);

    // without --check it formats, and shows what it did; then there is nothing left to show
    const wrote = await ok(dir, ['fmt', '--diff']);
    expect(wrote.stdout).toBe(checked.stdout);
    expect(readFileSync(join(dir, 'orgloop.yaml'), 'utf8')).toBe(YAML);
    const clean = await ok(dir, ['fmt', '-diff', '--check']);
    expect(clean.stdout).toBe('');
  });
});

describe('orgloop import of an existing GitHub webhook', () => {
  const github = fakeGithubForFile();
  const env = () => ({ GITHUB_TOKEN, GITHUB_WEBHOOK_SECRET: 'whsec-import-1', GITHUB_API_URL: github.gh.url });
  const project = `sources:
${githubHookSource({ events: ['pull_request_review', 'issue_comment'] })}actors:
  - id: agent
    connector: command
    config: { command: "cat > /dev/null" }
routes:
  - name: reviews
    when: { source: gh-hook, events: [pull_request_review] }
    then: { actor: agent }
`;

  async function handMadeHook(url: string): Promise<number> {
    const res = await fetch(`${github.gh.url}/repos/acme/api/hooks`, {
      method: 'POST',
      headers: { authorization: `token ${GITHUB_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'web', active: true, events: ['push'], config: { url, content_type: 'json' } }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: number }).id;
  }

  it('adopts a hand-made hook: plan shows how it differs, apply updates it in place, no second hook', async () => {
    github.gh.repo('acme/api').hooks = [];
    const id = await handMadeHook('https://old-tunnel.example.net/hook');
    const dir = tempProject({ 'orgloop.yaml': project });
    const hooks = () => github.gh.repo('acme/api').hooks;

    const missing = await cli(['import', 'source.gh-hook', String(id + 100)], { cwd: dir, env: env() });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`acme/api has no webhook ${id + 100}; its webhooks: ${id} (https://old-tunnel.example.net/hook)`);

    const imported = await ok(dir, ['import', 'source.gh-hook', String(id)], env());
    expect(imported.stdout).toContain(`Imported source.gh-hook ${id}: state version 1 (import); source.gh-hook is now in the state as declared.`);
    const history = (await ok(dir, ['history', '--json'])).stdout;
    expect(JSON.parse(history)[0]).toMatchObject({ serial: 1, kind: 'import', message: `import source.gh-hook ${id}` });

    const plan = (await ok(dir, ['plan'], env())).stdout;
    expect(plan).toContain('source.gh-hook');
    expect(plan).toContain('changed outside orgloop');
    expect(plan).toContain('url: applied https://hooks.example.com/webhook/gh-hook, on GitHub https://old-tunnel.example.net/hook');
    expect(plan).toContain('events: applied [issue_comment, pull_request_review], on GitHub [push]');
    expect(plan).toContain('secret: imported hook');
    expect(plan).not.toMatch(/source\.gh-hook will be created/);

    await ok(dir, ['apply', '--auto-approve'], env());
    expect(hooks()).toHaveLength(1);
    expect(hooks()[0]).toMatchObject({
      id,
      events: ['issue_comment', 'pull_request_review'],
      config: { url: 'https://hooks.example.com/webhook/gh-hook', secret: 'whsec-import-1' },
    });
    expect((await ok(dir, ['drift'], env())).code).toBe(0);

    const again = await cli(['import', 'source.gh-hook', String(id)], { cwd: dir, env: env() });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('source.gh-hook already manages an object');
    expect(again.stderr).toContain('orgloop state rm source.gh-hook');

    const shown = (await ok(dir, ['show'])).stdout;
    expect(shown).toMatch(new RegExp(`provider_state\\.hook_id += ${id}\\n`));
    for (const r of [missing, imported, again]) expect(r.stdout + r.stderr).not.toContain('whsec-import-1');
    expect(shown + plan + history).not.toContain('whsec-import-1');
  }, 60_000);

  it('refuses a resource with no importable object, naming the connector that has one', async () => {
    const dir = tempProject({ 'orgloop.yaml': YAML, '.env': `HOOK_SECRET=${SECRET}\n` });
    for (const address of ['source.hooks', 'route.triage']) {
      const r = await cli(['import', address, '1'], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('manages no external object that can be imported. Importable: source connector github-webhook (ID: the repository webhook');
    }
    const undeclared = await cli(['import', 'source.github', '1'], { cwd: dir });
    expect(undeclared.stderr).toContain('source.github is not declared in');
    expect(undeclared.stderr).toContain('(declared sources: source.hooks)');

    // `orgloop providers` says which connector has an importable object, and what its ID is
    const listed = (await ok(dir, ['providers', 'github-webhook'])).stdout;
    expect(listed).toContain("import: orgloop import source.NAME ID (ID: the repository webhook's numeric id");
    const json = JSON.parse((await ok(dir, ['providers', '--json'])).stdout);
    const importable = json.providers.filter((p: { import_id: string | null }) => p.import_id).map((p: { name: string }) => p.name);
    expect(importable).toEqual(['github-webhook']);
  });
});

describe('orgloop history colours', () => {
  it('marks the current version green and versions a rollback undid red, only on a colour terminal', async () => {
    const dir = tempProject({ 'orgloop.yaml': YAML, '.env': `HOOK_SECRET=${SECRET}\n` });
    await ok(dir, ['apply', '--auto-approve', '-m', 'one']);
    writeFileSync(join(dir, 'orgloop.yaml'), YAML.replace('events: [resource.changed]', 'events: [resource.changed, custom.ping]'));
    await ok(dir, ['apply', '--auto-approve', '-m', 'two']);
    await ok(dir, ['rollback', '--to', '1', '--auto-approve']);

    const coloured = (await ok(dir, ['history'], { NO_COLOR: '', FORCE_COLOR: '1' })).stdout;
    const green = (s: string) => `\x1b[32m${s}\x1b[39m`;
    const red = (s: string) => `\x1b[31m${s}\x1b[39m`;
    const yellow = (s: string) => `\x1b[33m${s}\x1b[39m`;
    const rows = coloured.split('\n');
    expect(rows[1]).toContain(green('*3'));
    expect(rows[1]).toContain(yellow('rollback'));
    expect(rows[1]).toContain(green('current, restores v1'));
    expect(rows[2]).toContain(red(' 2'));
    expect(rows[2]).toContain(red('rolled back by v3'));
    expect(rows[3]).not.toContain('\x1b[');

    for (const env of [{}, { NO_COLOR: '1', FORCE_COLOR: '1' }]) {
      const plain = (await ok(dir, ['history'], env)).stdout;
      expect(plain).not.toContain('\x1b[');
      // the table aligns the same with or without colour
      expect(plain).toBe(stripVTControlCharacters(coloured));
    }
    expect((await ok(dir, ['--no-color', 'history'], { NO_COLOR: '', FORCE_COLOR: '1' })).stdout).not.toContain('\x1b[');
  }, 60_000);
});
