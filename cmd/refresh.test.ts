// End-to-end: `plan` refreshes provider-managed objects first (Terraform's refresh), so a
// github-webhook source's repository hook deleted or edited on GitHub is recreated or repaired by
// the next apply, with unchanged configuration. Real CLI child processes, the fake GitHub API.

import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { cli, tempProject, type CliResult } from './test-helpers/executor.js';
import { fakeGithubForFile, githubHookSource } from './test-helpers/github-hook.js';

const github = fakeGithubForFile();

const PROJECT = `
sources:
${githubHookSource({ connector: '"@orgloop/connector-github-webhook"', events: ['pull_request_review', 'issue_comment'] })}actors:
  - id: agent
    connector: command
    config: { command: "cat > /dev/null" }
routes:
  - name: reviews
    when: { source: gh-hook, events: [pull_request_review] }
    then: { actor: agent }
`;

const all = (r: CliResult) => r.stdout + r.stderr;

describe('plan refreshes provider-managed objects', () => {
  it('recreates a hook deleted on GitHub, repairs one edited there, and --refresh=false skips the check', async () => {
    const env = { GITHUB_TOKEN: 'gh-tok', GITHUB_WEBHOOK_SECRET: 'whsec-123', GITHUB_API_URL: github.gh.url };
    const dir = tempProject({ 'orgloop.yaml': PROJECT });
    const run = (...args: string[]) => cli(args, { cwd: dir, env });
    const hooks = () => github.gh.repo('acme/api').hooks;
    const storedHookId = async () => {
      const shown = await run('state', 'show', 'source.gh-hook', '--json');
      expect(shown.code).toBe(0);
      return (JSON.parse(shown.stdout) as { resource: { provider_state: { hook_id: number } } }).resource.provider_state.hook_id;
    };
    const outputs: CliResult[] = [];

    const a1 = await run('apply', '--auto-approve');
    outputs.push(a1);
    expect(a1.code).toBe(0);
    expect(hooks()).toHaveLength(1);
    const firstId = hooks()[0].id;
    expect(await storedHookId()).toBe(firstId);
    expect((await run('plan', '--detailed-exitcode')).code).toBe(0);

    // --- deleted on GitHub ---
    github.gh.repo('acme/api').hooks = [];
    const p1 = await run('plan', '--detailed-exitcode');
    outputs.push(p1);
    expect(p1.stderr).toBe('');
    expect(p1.code).toBe(2);
    expect(p1.stdout).toContain(`# source.gh-hook will be created (deleted outside orgloop: webhook ${firstId} on acme/api was deleted on GitHub)`);
    expect(p1.stdout).toContain('Plan: 1 to add, 0 to change, 0 to destroy.');

    const pj = await run('plan', '--json');
    const doc = JSON.parse(pj.stdout) as { changes: Array<{ address: string; actions: string[] }>; refreshed: unknown[]; summary: { unchanged: number } };
    expect(doc.changes.map((c) => [c.address, c.actions])).toEqual([['source.gh-hook', ['create']]]);
    expect(doc.refreshed).toEqual([
      { address: 'source.gh-hook', provider: 'github-webhook', status: 'deleted', differences: [`webhook ${firstId} on acme/api was deleted on GitHub`] },
    ]);
    expect(doc.summary.unchanged).toBe(2);

    // skipping the refresh plans against the state as recorded: nothing to do
    for (const flag of ['--refresh=false', '--no-refresh', '-refresh=false']) {
      const skipped = await run('plan', flag, '--detailed-exitcode');
      expect(skipped.code, flag).toBe(0);
      expect(skipped.stdout, flag).toContain('No changes.');
    }
    const bad = await run('plan', '--refresh=perhaps');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--refresh must be true or false (got "perhaps")');

    // drift names the provider's own detail
    const drift = await run('drift');
    expect(drift.code).toBe(2);
    expect(drift.stdout).toContain(`source.gh-hook: deleted outside orgloop: webhook ${firstId} on acme/api was deleted on GitHub`);

    // a saved plan carries the refresh: applying it recreates the hook
    const saved = join(dir, 'recreate.plan');
    expect((await run('plan', '-out', saved)).code).toBe(0);
    const a2 = await run('apply', saved);
    outputs.push(a2);
    expect(a2.stderr).toBe('');
    expect(a2.code).toBe(0);
    expect(a2.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 0 destroyed.');
    expect(hooks()).toHaveLength(1);
    const secondId = hooks()[0].id;
    expect(secondId).not.toBe(firstId);
    expect(hooks()[0]).toMatchObject({
      events: ['issue_comment', 'pull_request_review'],
      config: { url: 'https://hooks.example.com/webhook/gh-hook', secret: 'whsec-123' },
    });
    expect(await storedHookId()).toBe(secondId);
    const after = await run('plan', '--detailed-exitcode');
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('No changes.');

    // --- edited on GitHub ---
    hooks()[0].events = ['push'];
    const p2 = await run('plan', '--detailed-exitcode');
    outputs.push(p2);
    expect(p2.code).toBe(2);
    expect(p2.stdout).toContain(
      '# source.gh-hook will be updated in-place (changed outside orgloop: events: applied [issue_comment, pull_request_review], on GitHub [push])',
    );
    expect(p2.stdout).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
    expect((await run('plan', '--refresh=false', '--detailed-exitcode')).code).toBe(0);

    const a3 = await run('apply', '--auto-approve');
    outputs.push(a3);
    expect(a3.code).toBe(0);
    expect(a3.stdout).toContain('Apply complete! Resources: 0 added, 1 changed, 0 destroyed.');
    expect(hooks().map((h) => [h.id, h.events])).toEqual([[secondId, ['issue_comment', 'pull_request_review']]]);
    expect(await storedHookId()).toBe(secondId);
    expect((await run('plan', '--detailed-exitcode')).code).toBe(0);
    expect((await run('drift')).code).toBe(0);

    // --- a hook disabled on GitHub: the provider's detail reaches plan and drift ---
    hooks()[0].active = false;
    const p3 = await run('plan');
    expect(p3.stdout).toContain('changed outside orgloop: active: applied true, on GitHub false (the hook was disabled)');
    const d3 = await run('drift');
    expect(d3.stdout).toContain('source.gh-hook: changed outside orgloop: active: applied true, on GitHub false (the hook was disabled)');
    expect((await run('apply', '--auto-approve')).code).toBe(0);
    expect(hooks()[0].active).toBe(true);

    for (const r of outputs) expect(all(r)).not.toContain('whsec-123');
  }, 180_000); // a dozen CLI runs: past the 60 s default on a loaded 2-core host

  it('a failed read is a clear error naming the resource and suggesting --refresh=false', async () => {
    const env = { GITHUB_TOKEN: 'gh-tok', GITHUB_WEBHOOK_SECRET: 'whsec-9', GITHUB_API_URL: github.gh.url };
    const repo = github.gh.repo('acme/api');
    repo.hooks = [];
    const dir = tempProject({ 'orgloop.yaml': PROJECT });
    const run = (...args: string[]) => cli(args, { cwd: dir, env });
    expect((await run('apply', '--auto-approve')).code).toBe(0);
    const hookId = repo.hooks[0].id;

    // the token no longer works: GitHub answers 401
    github.gh.state.token = 'rotated-elsewhere';
    try {
      const denied = await run('plan');
      expect(denied.code).toBe(1);
      expect(denied.stdout).toBe('');
      expect(denied.stderr).toContain('cannot refresh source.gh-hook: reading the github-webhook object it manages failed: GitHub rejected the token (401 Bad credentials)');
      expect(denied.stderr).toContain('or plan without refreshing (--refresh=false)');
      expect(denied.stderr).not.toMatch(/\n\s+at /); // no stack trace
      const applyDenied = await run('apply', '--auto-approve');
      expect(applyDenied.code).toBe(1);
      expect(applyDenied.stderr).toContain('cannot refresh source.gh-hook');
      // without refresh, nothing asks GitHub
      expect((await run('plan', '--refresh=false', '--detailed-exitcode')).code).toBe(0);
    } finally {
      github.gh.state.token = 'gh-tok';
    }

    // GitHub fails with 500 on the hook GET (the fake's handler throws on a corrupt hook list)
    const kept = repo.hooks;
    repo.hooks = null as unknown as any[];
    try {
      const broken = await run('plan', '--detailed-exitcode');
      expect(broken.code).toBe(1);
      expect(broken.stderr).toContain(`cannot refresh source.gh-hook: reading the github-webhook object it manages failed: GitHub GET ${github.gh.url}/repos/acme/api/hooks/${hookId} failed with 500`);
      expect(broken.stderr).toContain('--refresh=false');
    } finally {
      repo.hooks = kept;
    }
    expect((await run('plan', '--detailed-exitcode')).code).toBe(0);
  });
});
