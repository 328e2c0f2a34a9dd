// End-to-end: the executor polls the fake GitHub and Linear APIs with the real providers and wakes
// OpenClaw agents; a restart resumes from the stored cursors without waking anyone twice.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, runExecutor, tempProject, until, type RunningExecutor } from './test-helpers/executor.js';
import { startFakeGithub, type FakeGithub } from '../test/fakes/github.js';
import { startFakeLinear, type FakeLinear } from '../test/fakes/linear.js';
import { startFakeOpenclaw, type FakeOpenclaw } from '../test/fakes/openclaw.js';

let gh: FakeGithub;
let ln: FakeLinear;
let oc: FakeOpenclaw;
const running: RunningExecutor[] = [];
beforeAll(async () => {
  [gh, ln, oc] = await Promise.all([startFakeGithub({ token: 'gh-tok' }), startFakeLinear({ apiKey: 'lin_api_tok' }), startFakeOpenclaw({ token: 'oc-tok' })]);
});
afterAll(async () => {
  await Promise.all([gh.close(), ln.close(), oc.close()]);
});
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

const PROJECT = `
sources:
  - id: github
    connector: "@orgloop/connector-github"
    config:
      repo: acme/api
      token: "\${GITHUB_TOKEN}"
      base_url: "\${GITHUB_API_URL}"
      initial_lookback: 1h
    poll: { interval: 1s }
  - id: linear
    connector: "@orgloop/connector-linear"
    config:
      team: ENG
      api_key: "\${LINEAR_API_KEY}"
      base_url: "\${LINEAR_API_URL}"
      initial_lookback: 1h
    poll: { interval: 1s }
actors:
  - id: engineering-agent
    connector: "@orgloop/connector-openclaw"
    config:
      base_url: "\${OPENCLAW_URL}"
      agent_id: engineering
      auth_token_env: "\${OPENCLAW_TOKEN}"
transforms:
  - name: drop-bots
    type: filter
    config: { exclude: { provenance.author_type: bot } }
routes:
  - name: pr-review
    when:
      source: github
      events: [pull_request_review]
    transforms: [drop-bots]
    then:
      actor: engineering-agent
      config: { session_key: "pr-{{payload.number}}" }
    with:
      prompt_file: "./sops/pr-review.md"
  - name: linear-triage
    when: { source: linear, events: [issue.created] }
    then: { actor: engineering-agent, config: { session_key: "linear-{{payload.issue_id}}" } }
`;

describe('polling connectors through orgloop start', () => {
  it('a PR review and a new Linear ticket wake the agent once each, across a restart', async () => {
    const env = {
      GITHUB_TOKEN: 'gh-tok',
      GITHUB_API_URL: gh.url,
      LINEAR_API_KEY: 'lin_api_tok',
      LINEAR_API_URL: ln.url,
      OPENCLAW_URL: oc.url,
      OPENCLAW_TOKEN: 'oc-tok',
    };
    gh.addPull('acme/api', { number: 12, title: 'Add rate limiter' });
    gh.addReview('acme/api', 12, { state: 'CHANGES_REQUESTED', body: 'handle 429', user: { login: 'carol', type: 'User' } });
    gh.addReview('acme/api', 12, { state: 'COMMENTED', body: 'bot noise', user: { login: 'coderabbit[bot]', type: 'Bot' } });
    ln.addIssue({ title: 'Checkout times out' });

    const dir = tempProject({ 'orgloop.yaml': PROJECT, 'sops/pr-review.md': '# PR review SOP\n' });
    const applied = await cli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);

    const ex = await runExecutor(['start', '--port', '0'], { cwd: dir, env });
    running.push(ex);
    const runs = await oc.waitForRuns(2);
    const bySession = Object.fromEntries(runs.map((r) => [r.body.sessionKey, r.body]));
    expect(Object.keys(bySession).sort()).toEqual(['linear-ENG-1', 'pr-12']);
    expect(bySession['pr-12'].message).toContain('[github] resource.changed (pull_request.review_submitted) by carol: acme/api#12 "Add rate limiter"');
    expect(bySession['pr-12'].message).toContain('# PR review SOP');
    expect(bySession['linear-ENG-1'].message).toContain('Checkout times out');

    // several more polls over the overlap window, then a restart: nothing is delivered twice
    const polled = gh.state.requests.length;
    await new Promise<void>((r) => {
      const t = setInterval(() => {
        if (gh.state.requests.filter((q) => q.path.endsWith('/pulls')).length >= 3 && gh.state.requests.length > polled) {
          clearInterval(t);
          r();
        }
      }, 100);
    });
    await ex.stop();
    running.length = 0;
    const ex2 = await runExecutor(['start', '--port', '0'], { cwd: dir, env });
    running.push(ex2);
    gh.addReview('acme/api', 12, { state: 'APPROVED', body: 'thanks', user: { login: 'dave', type: 'User' } });
    await oc.waitForRuns(3);
    // give the restarted executor a few more polls to (wrongly) re-deliver anything
    const seen = gh.state.requests.length;
    await new Promise<void>((r) => {
      const t = setInterval(() => {
        if (gh.state.requests.length >= seen + 6) {
          clearInterval(t);
          r();
        }
      }, 100);
    });
    expect(oc.state.runs.map((r) => r.body.sessionKey).sort()).toEqual(['linear-ENG-1', 'pr-12', 'pr-12']);
    expect(oc.state.runs.at(-1)!.body.message).toContain('by dave');
    // conditional requests paid off: unchanged listings were answered 304
    expect(gh.state.requests.some((q) => q.status === 304)).toBe(true);
  });
});

describe('secret rotation', () => {
  it('a token rotated in .env is used by the next poll, without re-apply or restart', async () => {
    const project = `
sources:
  - id: github
    connector: github
    config: { repo: acme/api, token: "\${GITHUB_TOKEN}", base_url: "\${GITHUB_API_URL}" }
    poll: { interval: 1s }
actors:
  - id: noop
    connector: command
    config: { command: "true" }
routes:
  - name: reviews
    when: { source: github, events: [pull_request_review] }
    then: { actor: noop }
`;
    gh.state.token = 'rot-1';
    const dir = tempProject({ 'orgloop.yaml': project, '.env': `GITHUB_TOKEN=rot-1\nGITHUB_API_URL=${gh.url}\n` });
    expect((await cli(['apply', '--auto-approve'], { cwd: dir })).code).toBe(0);
    const ex = await runExecutor(['start', '--port', '0'], { cwd: dir });
    running.push(ex);
    const authed = (token: string) => gh.state.requests.filter((q) => q.auth === `Bearer ${token}` && q.status !== 401).length;
    await until(() => authed('rot-1') > 0, 15_000, 'a poll with the first token');

    gh.state.token = 'rot-2';
    writeFileSync(join(dir, '.env'), `GITHUB_TOKEN=rot-2\nGITHUB_API_URL=${gh.url}\n`);
    await until(() => authed('rot-2') > 0, 15_000, 'a poll with the rotated token');
    gh.state.token = 'gh-tok';
  });
});
