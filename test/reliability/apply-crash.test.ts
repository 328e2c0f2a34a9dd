// Scenario 4: kill -9 of `orgloop apply`. The store holds the old version or the new one, never a
// mix; the lock left by the dead process is recovered by the next apply; an external object the
// dead apply already created (a GitHub repository hook) is adopted, not duplicated.

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeGithubForFile, githubHookSource } from '../../cmd/test-helpers/github-hook.js';
import { CLI } from '../../cmd/test-helpers/executor.js';
import { cli, openState, sleep, startProxy, tempProject } from './harness.js';

const github = fakeGithubForFile();

const base = `
sources:
  - id: inbox
    connector: webhook
actors:
  - id: agent
    connector: command
    config: { command: "cat > /dev/null" }
routes:
  - name: inbox-to-agent
    when: { source: inbox }
    then: { actor: agent }
`;

const withHook = `${base}  - name: reviews
    when: { source: gh-hook, events: [pull_request_review] }
    then: { actor: agent }
`.replace(
  'sources:\n',
  `sources:\n${githubHookSource()}`,
);

function runApply(dir: string, env: NodeJS.ProcessEnv) {
  const p = spawn(process.execPath, [CLI, 'apply', '--auto-approve'], { cwd: dir, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (c) => (out += c));
  p.stderr.on('data', (c) => (out += c));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => p.on('exit', (code, signal) => r({ code, signal })));
  return { p, done, out: () => out };
}

async function current(dir: string) {
  const store = await openState(dir);
  try {
    return { meta: await store.meta(), version: await store.current(), versions: await store.versions(), lock: await store.lockHolder() };
  } finally {
    await store.close();
  }
}

describe('reliability: kill -9 during apply (scenario 4)', () => {
  it('a kill after the hook was created leaves the old version and a dead lock; the next apply takes the lock over and adopts the hook', async () => {
    const dir = tempProject({ 'orgloop.yaml': base });
    let victim: ReturnType<typeof runApply> | null = null;
    const px = await startProxy(github.gh.url, async (method, path) => {
      if (method === 'POST' && path.endsWith('/hooks') && victim) {
        // GitHub created the hook; the apply dies before it hears back or records anything
        victim.p.kill('SIGKILL');
        await victim.done;
      }
    });
    const env = { GITHUB_TOKEN: 'gh-tok', GITHUB_WEBHOOK_SECRET: 's3cret', GITHUB_API_URL: px.url };
    try {
      const first = await cli(['apply', '--auto-approve'], { cwd: dir, env });
      expect(first.code, first.stderr).toBe(0);
      const v1 = await current(dir);
      expect(v1.meta.serial).toBe(1);

      writeFileSync(join(dir, 'orgloop.yaml'), withHook);
      victim = runApply(dir, env);
      const killed = await victim.done;
      expect(killed.signal).toBe('SIGKILL');
      victim = null;
      expect(github.gh.repo('acme/api').hooks).toHaveLength(1);

      // old version intact, nothing half-written, the lock still names the dead process
      const after = await current(dir);
      expect(after.meta.serial).toBe(1);
      expect(after.versions.map((v) => v.serial)).toEqual([1]);
      expect(after.version!.snapshot).toEqual(v1.version!.snapshot);
      expect(after.lock).not.toBeNull();

      const again = await cli(['apply', '--auto-approve'], { cwd: dir, env });
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.stderr + again.stdout).toMatch(/took over the state lock .* \(process \d+ on .* is no longer running\)/);
      const v2 = await current(dir);
      expect(v2.meta.serial).toBe(2);
      expect(v2.lock).toBeNull();
      const hooks = github.gh.repo('acme/api').hooks;
      expect(hooks).toHaveLength(1);
      expect(v2.version!.snapshot.resources['source.gh-hook']!.provider_state).toMatchObject({ hook_id: hooks[0].id, repo: 'acme/api' });

      const plan = await cli(['plan', '--detailed-exitcode'], { cwd: dir, env });
      expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    } finally {
      await px.close();
    }
  });

  it('kills at random moments leave either the old or the new version, never a mix, and the lock is always recovered', async () => {
    const routes = (prefix: string) =>
      Array.from({ length: 300 }, (_, i) => `  - name: ${prefix}-${i}\n    when: { source: inbox }\n    then: { actor: agent }\n`).join('');
    const variant = (prefix: string) => base.replace(/routes:\n[\s\S]*$/, `routes:\n${routes(prefix)}`);
    const dir = tempProject({ 'orgloop.yaml': variant('v0') });
    const first = await cli(['apply', '--auto-approve'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);

    for (let i = 1; i <= 5; i++) {
      const before = await current(dir);
      const prefixOf = (snap: typeof before) => new Set(Object.values(snap.version!.snapshot.resources).filter((r) => r.kind === 'route').map((r) => r.name.split('-')[0]));
      writeFileSync(join(dir, 'orgloop.yaml'), variant(`v${i}`));
      const run = runApply(dir, {});
      await sleep(250 + Math.floor(Math.random() * 900));
      run.p.kill('SIGKILL');
      await run.done;

      const after = await current(dir);
      const prefixes = prefixOf(after);
      expect(prefixes.size, `routes of one version only, got ${[...prefixes].join(', ')}`).toBe(1);
      if (after.meta.serial === before.meta.serial) {
        expect(after.version!.snapshot).toEqual(before.version!.snapshot);
      } else {
        expect(after.meta.serial).toBe(before.meta.serial + 1);
        expect([...prefixes]).toEqual([`v${i}`]);
      }
      // the next apply always gets through, whether or not the lock was left behind
      const next = await cli(['apply', '--auto-approve'], { cwd: dir });
      expect(next.code, next.stdout + next.stderr).toBe(0);
      const settled = await current(dir);
      expect([...prefixOf(settled)]).toEqual([`v${i}`]);
      expect(settled.lock).toBeNull();
    }
  });
});
