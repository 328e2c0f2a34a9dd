// End-to-end: the real CLI as a child process against real SQLite state files.

import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, cli, tempProject, type CliResult } from './test-helpers/executor.js';

const SECRET = 'sEcReT-value-8f3a91';
const SECRET2 = 'sEcReT-value-rotated-77c2';

const YAML = (filter = 'pull_request_review', withOps = true) => `
sources:
  - id: github
    connector: webhook
    config: { secret: "\${GH_SECRET}" }
actors:
  - id: eng
    connector: command
    config: { command: "cat" }
${withOps ? `  - id: ops
    connector: command
    config: { command: "true" }
` : ''}routes:
  - name: pr-review
    when:
      source: github
      events: [resource.changed]
      filter: { provenance.platform_event: ${filter} }
    then: { actor: eng }
    with: { prompt_file: ./sops/pr-review.md }
${withOps ? `  - name: ops-page
    when: { source: github, events: [resource.changed] }
    then: { actor: ops }
` : ''}`;

function project(): string {
  return tempProject({ 'orgloop.yaml': YAML(), 'sops/pr-review.md': 'Review the pull request.\nBe kind.\n' });
}

const outputs: string[] = [];
async function run(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const r = await cli(args, { cwd: dir, env: { GH_SECRET: SECRET, ORGLOOP_WHO: 'tester@ci', ...env } });
  outputs.push(r.stdout, r.stderr);
  return r;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('orgloop plan / apply', () => {
  it('plans creates, applies them, then reports no changes', async () => {
    const dir = project();
    const first = await run(dir, ['plan', '--detailed-exitcode']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(2);
    for (const a of ['source.github', 'actor.eng', 'actor.ops', 'route.pr-review', 'route.ops-page']) expect(first.stdout).toContain(`+ ${a}`);
    expect(first.stdout).toContain('Plan: 5 to add, 0 to change, 0 to destroy.');

    const applied = await run(dir, ['apply', '--auto-approve', '-m', 'first']);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('Apply complete! Resources: 5 added, 0 changed, 0 destroyed.');
    expect(applied.stdout).toContain('State serial: 1');

    const again = await run(dir, ['plan', '--detailed-exitcode']);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No changes. Your organization matches the configuration.');
    const json = JSON.parse((await run(dir, ['plan', '--json'])).stdout);
    expect(json).toMatchObject({ format_version: 1, kind: 'orgloop-plan', serial: 1, changes: [], summary: { add: 0, change: 0, destroy: 0, unchanged: 5 } });
  });

  it('shows the right action and diff for a filter, a prompt, a secret and a removed actor — and never the secret', async () => {
    const dir = project();
    expect((await run(dir, ['apply', '--auto-approve'])).code).toBe(0);

    writeFileSync(join(dir, 'orgloop.yaml'), YAML('pull_request'));
    const filter = await run(dir, ['plan', '--detailed-exitcode']);
    expect(filter.code).toBe(2);
    expect(filter.stdout).toContain('~ route.pr-review');
    expect(filter.stdout).toContain('~ when.filter["provenance.platform_event"] = "pull_request_review" -> "pull_request"');
    expect(filter.stdout).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
    writeFileSync(join(dir, 'orgloop.yaml'), YAML());

    writeFileSync(join(dir, 'sops/pr-review.md'), 'Review the pull request.\nBe thorough.\n');
    const prompt = await run(dir, ['plan']);
    expect(prompt.stdout).toContain('# route.pr-review will be updated in-place (changed: prompt text)');
    expect(prompt.stdout).toMatch(/-Be kind\.\n\s+\+Be thorough\./);

    const secret = await run(dir, ['plan', '-out', 'secret.plan'], { GH_SECRET: SECRET2 });
    expect(secret.stdout).toContain('~ config.secret = (sensitive value changed)');
    expect(secret.stdout).toContain('Saved the plan to secret.plan');
    const md = await run(dir, ['show', 'secret.plan', '--format', 'markdown']);
    expect(md.stdout).toContain('**Plan: 0 to add, 2 to change, 0 to destroy.**');
    const shown = await run(dir, ['show', 'secret.plan', '--json']);
    expect(JSON.parse(shown.stdout).changes.map((c: { address: string }) => c.address)).toEqual(['source.github', 'route.pr-review']);
    expect((await run(dir, ['apply', 'secret.plan'], { GH_SECRET: SECRET2 })).code).toBe(0);

    writeFileSync(join(dir, 'orgloop.yaml'), YAML('pull_request_review', false));
    const removed = await run(dir, ['plan'], { GH_SECRET: SECRET2 });
    expect(removed.stdout).toContain('# actor.ops will be destroyed (removed from configuration)');
    expect(removed.stdout).toContain('# route.ops-page will be destroyed (removed from configuration)');
    expect(removed.stdout.indexOf('- actor.ops')).toBeLessThan(removed.stdout.indexOf('Plan:'));
    expect(removed.stdout).toContain('fan-out of source.github: 2 -> 1 route');
    expect(removed.stdout).toContain('Plan: 0 to add, 0 to change, 2 to destroy.');
    const done = await run(dir, ['apply', '--auto-approve', '--json'], { GH_SECRET: SECRET2 });
    expect(JSON.parse(done.stdout)).toMatchObject({ applied: true, serial: 3, summary: { destroy: 2 } });

    // The secret values appear nowhere: state files (db, WAL), plan files, any output.
    const everything = [...filesUnder(dir).map((f) => readFileSync(f).toString('latin1')), ...outputs].join('\n');
    expect(everything).toContain('${GH_SECRET}');
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(SECRET2);
  });

  it('refuses stale and foreign plan files with exit 4 and distinct messages', async () => {
    const dir = project();
    expect((await run(dir, ['apply', '--auto-approve'])).code).toBe(0);
    writeFileSync(join(dir, 'orgloop.yaml'), YAML('pull_request'));
    expect((await run(dir, ['plan', '-out', 'a.plan'])).code).toBe(0);

    const foreign = await run(dir, ['apply', 'a.plan', '--state', join(dir, 'other.db')]);
    expect(foreign.code).toBe(4);
    expect(foreign.stderr).toContain('the plan was made for a different state');

    expect((await run(dir, ['apply', '--auto-approve'])).code).toBe(0);
    const stale = await run(dir, ['apply', 'a.plan']);
    expect(stale.code).toBe(4);
    expect(stale.stderr).toContain('the plan is stale: it was made against state serial 1, but the state is now at serial 2');

    writeFileSync(join(dir, 'junk.plan'), '{"hello":1}');
    const junk = await run(dir, ['apply', 'junk.plan']);
    expect(junk.code).toBe(1);
    expect(junk.stderr).toContain('junk.plan is not an orgloop plan file');
  });

  it('refuses to apply without a terminal unless --auto-approve, and rejects bad flags', async () => {
    const dir = project();
    const r = await run(dir, ['apply']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('apply needs confirmation, but there is no terminal');
    expect(existsSync(join(dir, '.orgloop', 'state.db'))).toBe(false);
    const t = await run(dir, ['apply', '--auto-approve', '--lock-timeout', 'soon']);
    expect(t.stderr).toContain('--lock-timeout must be a duration like 30s');
    const f = await run(dir, ['plan', '--format', 'yaml']);
    expect(f.stderr).toContain('--format must be text, json or markdown');
    const target = await run(dir, ['plan', '--target', 'routes.x']);
    expect(target.stderr).toContain('"routes.x" is not a resource address');
  });

  it('plans only targeted resources with --target and --exclude', async () => {
    const dir = project();
    const t = await run(dir, ['plan', '--target', 'route.pr-review']);
    expect(t.stdout).toContain('Resource targeting is in effect');
    expect(t.stdout).toContain('+ route.pr-review');
    expect(t.stdout).toContain('+ source.github'); // a dependency comes along
    expect(t.stdout).not.toContain('+ actor.ops');
    expect(t.stdout).toContain('Plan: 3 to add, 0 to change, 0 to destroy.');
    const x = await run(dir, ['plan', '--exclude', 'route']);
    expect(x.stdout).toContain('Plan: 3 to add, 0 to change, 0 to destroy.');
    const bad = await run(dir, ['plan', '--exclude', 'actor.eng']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('route.pr-review would refer to actor.eng, which would not exist');
  });
});

/** A process that takes the state lock and holds it until killed. */
function lockHolder(dbPath: string): Promise<{ pid: number; id: string; kill(): Promise<void> }> {
  const openJs = new URL('../dist/state/open.js', import.meta.url).href;
  const code = `
    const { openStore } = await import(${JSON.stringify(openJs)});
    const os = await import('node:os');
    const store = await openStore(${JSON.stringify(dbPath)});
    const now = new Date().toISOString();
    const id = 'held-' + process.pid;
    const holder = await store.tryLock({ id, operation: 'apply', who: 'someone@elsewhere', host: os.hostname(), pid: process.pid, created_at: now, heartbeat_at: now });
    if (holder) { console.log('busy'); process.exit(1); }
    console.log('locked ' + id);
    setInterval(() => {}, 1000);`;
  const p = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((res, rej) => {
    let out = '';
    p.stdout.on('data', (c) => {
      out += c;
      const m = /locked (\S+)/.exec(out);
      if (m) {
        res({
          pid: p.pid!,
          id: m[1],
          kill: () => new Promise<void>((done) => {
            p.on('exit', () => done());
            p.kill('SIGKILL');
          }),
        });
      }
    });
    p.on('exit', (code) => rej(new Error(`lock holder exited ${code}: ${out}`)));
  });
}

describe('state lock', () => {
  it('exits 3 naming the holder, and force-unlock releases it', async () => {
    const dir = project();
    const db = join(dir, '.orgloop', 'state.db');
    expect((await run(dir, ['plan'])).code).toBe(0); // creates the store
    const holder = await lockHolder(db);
    try {
      const r = await run(dir, ['apply', '--auto-approve', '--lock-timeout', '0s']);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('the state is locked by another operation');
      expect(r.stderr).toContain(`ID:        ${holder.id}`);
      expect(r.stderr).toContain('Who:       someone@elsewhere');
      expect(r.stderr).toContain(`(pid ${holder.pid})`);
      expect(r.stderr).toMatch(/Created: .*\(\d+s ago\)/);
      expect(r.stderr).toContain(`orgloop force-unlock ${holder.id}`);

      const wrong = await run(dir, ['force-unlock', 'nope', '--force']);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain('lock ID nope does not match the current lock');
      const noTty = await run(dir, ['force-unlock', holder.id]);
      expect(noTty.stderr).toContain('force-unlock needs confirmation');
      const ok = await run(dir, ['force-unlock', holder.id, '--force']);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain(`Released the state lock ${holder.id}`);
      expect((await run(dir, ['apply', '--auto-approve', '--lock-timeout', '0s'])).code).toBe(0);
      const none = await run(dir, ['force-unlock', holder.id, '--force']);
      expect(none.stderr).toContain('the state is not locked');
    } finally {
      await holder.kill();
    }
  });

  it('takes over a lock left by a killed process, with a warning', async () => {
    const dir = project();
    expect((await run(dir, ['plan'])).code).toBe(0);
    const holder = await lockHolder(join(dir, '.orgloop', 'state.db'));
    await holder.kill();
    const r = await run(dir, ['apply', '--auto-approve', '--lock-timeout', '0s']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`Warning: took over the state lock ${holder.id} held by someone@elsewhere (process ${holder.pid}`);
    expect(r.stdout).toContain('Apply complete!');
  });

  it('lets one of two concurrent applies win; the other exits 3 naming the lock', async () => {
    const dir = project();
    expect((await run(dir, ['plan'])).code).toBe(0);
    // Both run on a real terminal (script(1) allocates a pty), so each takes the lock and then
    // waits at the confirmation prompt: whoever got the lock holds it until we answer.
    const start = () => {
      const p = spawn('script', ['-qfec', `${process.execPath} ${CLI} apply --lock-timeout 0s`, '/dev/null'], {
        cwd: dir,
        env: { ...process.env, NO_COLOR: '1', GH_SECRET: SECRET, ORGLOOP_WHO: 'racer' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const r = { p, out: '', code: null as number | null, done: null as unknown as Promise<number> };
      p.stdout.on('data', (c) => (r.out += c));
      p.stderr.on('data', (c) => (r.out += c));
      r.done = new Promise((res) => p.on('exit', (code) => res((r.code = code ?? -1))));
      return r;
    };
    const a = start();
    const b = start();
    const waitFor = async (pred: () => boolean) => {
      for (let i = 0; i < 600 && !pred(); i++) await new Promise((r) => setTimeout(r, 50));
    };
    await waitFor(() => (a.out.includes('Enter a value') || a.code !== null) && (b.out.includes('Enter a value') || b.code !== null));
    const [winner, loser] = a.out.includes('Enter a value') ? [a, b] : [b, a];
    expect(await loser.done).toBe(3);
    expect(loser.out).toContain('the state is locked by another operation');
    expect(loser.out).toContain('Who:       racer');
    expect(winner.out).toContain('Do you want to perform these actions?');
    winner.p.stdin.write('yes\n');
    expect(await winner.done).toBe(0);
    expect(winner.out).toContain('Apply complete! Resources: 5 added');
  });
});

