// End-to-end: the github-webhook source's repository hook is an external object managed by
// `orgloop apply` and watched by `orgloop drift`, here against the fake GitHub API.

import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempProject } from './test-helpers/executor.js';
import { fakeGithubForFile, githubHookSource } from './test-helpers/github-hook.js';

const github = fakeGithubForFile();

const project = (events: string[] | null) => `
sources:
${githubHookSource({ connector: '"@orgloop/connector-github-webhook"', events })}  - id: inbox
    connector: webhook
actors:
  - id: agent
    connector: command
    config: { command: "cat > /dev/null" }
routes:
  - name: reviews
    when: { source: ${events ? 'gh-hook' : 'inbox'}, events: [pull_request_review] }
    then: { actor: agent }
`;

describe('github-webhook hook lifecycle through apply and drift', () => {
  it('apply creates, updates and deletes the hook; drift exits 2 naming a hook deleted on GitHub', async () => {
    const env = { GITHUB_TOKEN: 'gh-tok', GITHUB_WEBHOOK_SECRET: 'whsec-123', GITHUB_API_URL: github.gh.url };
    const dir = tempProject({ 'orgloop.yaml': project(['pull_request_review', 'issue_comment']) });
    const hooks = () => github.gh.repo('acme/api').hooks;

    const a1 = await cli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(a1.stderr).toBe('');
    expect(a1.code).toBe(0);
    expect(hooks()).toHaveLength(1);
    expect(hooks()[0]).toMatchObject({
      events: ['issue_comment', 'pull_request_review'],
      config: { url: 'https://hooks.example.com/webhook/gh-hook', secret: 'whsec-123', content_type: 'json' },
    });
    const id = hooks()[0].id;

    const clean = await cli(['drift'], { cwd: dir, env });
    expect(clean.code).toBe(0);

    writeFileSync(join(dir, 'orgloop.yaml'), project(['pull_request_review', 'workflow_run']));
    const a2 = await cli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(a2.code).toBe(0);
    expect(hooks().map((h) => [h.id, h.events])).toEqual([[id, ['pull_request_review', 'workflow_run']]]);

    // edited on GitHub
    hooks()[0].events = ['push'];
    const edited = await cli(['drift'], { cwd: dir, env });
    expect(edited.code).toBe(2);
    expect(edited.stdout + edited.stderr).toContain('source.gh-hook');
    expect(edited.stdout + edited.stderr).toContain('events: applied [pull_request_review, workflow_run], on GitHub [push]');

    // deleted on GitHub
    github.gh.repo('acme/api').hooks = [];
    const gone = await cli(['drift'], { cwd: dir, env });
    expect(gone.code).toBe(2);
    expect(gone.stdout + gone.stderr).toMatch(/source\.gh-hook/);
    expect(gone.stdout + gone.stderr).toMatch(/deleted outside orgloop/);

    // apply puts it back, then removing the source deletes it
    writeFileSync(join(dir, 'orgloop.yaml'), project(['pull_request_review', 'workflow_run']).replace('repo: acme/api', 'repo: acme/api\n      path: /webhook/gh-hook'));
    const a3 = await cli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(a3.code).toBe(0);
    expect(hooks()).toHaveLength(1);

    writeFileSync(join(dir, 'orgloop.yaml'), project(null).replace(/ {2}- id: gh-hook[\s\S]*?(?= {2}- id: inbox)/, ''));
    const a4 = await cli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(a4.stderr).toBe('');
    expect(a4.code).toBe(0);
    expect(hooks()).toEqual([]);
    // the secret never reached state or output
    for (const r of [a1, a2, a3, a4, edited, gone]) expect(r.stdout + r.stderr).not.toContain('whsec-123');
  });
});
