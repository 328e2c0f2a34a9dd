// github-webhook's reconciliation poll end to end: a real executor, signed deliveries, and the
// fake GitHub API (tests/fakes/github.ts: GitHub's listings, `since`, Link pagination, rate-limit
// headers). A delivery GitHub never made is found by the poll; one it made is not stored twice,
// whichever path came first.

import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cli, runExecutor, tempProject, type RunningExecutor } from './test-helpers/executor.js';
import { startFakeGithub, type FakeGithub } from '../test/fakes/github.js';

let gh: FakeGithub;
const running: RunningExecutor[] = [];
beforeAll(async () => {
  gh = await startFakeGithub({ token: 'gh-tok' });
});
afterAll(() => gh.close());
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

const SECRET = 'whsec-rec';
const project = (extra = '') => `
sources:
  - id: gh
    connector: github-webhook
    config:
      repo_owner: acme
      repo_name: rec
      token: "\${GITHUB_TOKEN}"
      secret: "\${GITHUB_WEBHOOK_SECRET}"
      base_url: "\${GITHUB_API_URL}"
      reconciliation_interval_ms: 500
${extra}
actors:
  - id: agent
    connector: command
    config: { command: "cat > /dev/null" }
routes:
  - name: all
    when: { source: gh }
    then: { actor: agent }
`;

async function events(dir: string): Promise<Array<{ dedupe_key?: string; payload: any }>> {
  const r = await cli(['events', 'list', '--source', 'gh', '--json'], { cwd: dir });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await fn();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function deliver(url: string, event: string, body: unknown, id: string) {
  const raw = JSON.stringify(body);
  return fetch(`${url}/webhook/gh`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': id,
      'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`,
    },
    body: raw,
  });
}

describe('github-webhook reconciliation', () => {
  it('finds what GitHub never delivered; a delivered item, or one redelivered later, is stored once', async () => {
    const env = { GITHUB_TOKEN: 'gh-tok', GITHUB_WEBHOOK_SECRET: SECRET, GITHUB_API_URL: gh.url };
    const repo = 'acme/rec';
    const dir = tempProject({ 'orgloop.yaml': project() });
    const applied = await cli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(applied.code).toBe(0);

    // activity before the source's first poll is not reconciled (it only sets the cursor). GitHub's
    // times are whole seconds and the first poll counts its own second as after it, so the old
    // PR is made clearly earlier: one opened in that same second would be reconciled, by design
    const earlier = new Date(Date.now() - 10_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    gh.addPull(repo, { number: 4, title: 'Old', user: { login: 'bob', type: 'User' }, created_at: earlier, updated_at: earlier });
    const ex = await runExecutor(['start', '--port', '0'], { cwd: dir, env });
    running.push(ex);
    await until(async () => gh.state.requests.filter((q) => q.path === '/repos/acme/rec/issues/comments').length, (n) => n >= 1, 'the first poll');

    // then on GitHub: a PR with a review, and a comment whose delivery failed
    const pr = gh.addPull(repo, { number: 5, title: 'Fix the cache', user: { login: 'bob', type: 'User' } });
    const review = gh.addReview(repo, 5, { state: 'APPROVED', body: 'LGTM', user: { login: 'carol', type: 'User' } });
    const missed = gh.addIssueComment(repo, 5, { body: 'ship it', user: { login: 'dave', type: 'User' } });
    // the review was delivered
    const r1 = await deliver(ex.url, 'pull_request_review', { action: 'submitted', repository: { full_name: repo }, pull_request: pr, review }, 'd-1');
    expect(r1.status).toBe(202);

    const got = await until(() => events(dir), (e) => e.length >= 3, 'the reconciled comment and PR');
    const names = got.map((e) => `${e.payload.provenance.platform_event}${e.payload.provenance.reconciled ? ' (reconciled)' : ''}`).sort();
    // the PR's opening was never delivered either (no pull_request delivery was sent)
    expect(names).toEqual(['issue_comment (reconciled)', 'pull_request.opened (reconciled)', 'pull_request.review_submitted']);
    const comment = got.find((e) => e.payload.provenance.platform_event === 'issue_comment')!;
    expect(comment.payload.payload).toMatchObject({ comment_body: 'ship it', issue_number: 5, author: 'dave' });
    expect(got.some((e) => e.payload.payload.pr_number === 4)).toBe(false);
    // the poll really ran against the API, with the token
    const calls = gh.state.requests.filter((q) => q.path.startsWith('/repos/acme/rec/'));
    expect(calls.some((q) => q.path === '/repos/acme/rec/issues/comments' && q.query.since)).toBe(true);
    expect(calls.every((q) => q.auth === 'Bearer gh-tok')).toBe(true);

    // GitHub redelivers the missed comment by hand: a duplicate
    const r2 = await deliver(ex.url, 'issue_comment', { action: 'created', repository: { full_name: repo }, issue: { number: 5, title: 'Fix the cache', pull_request: {} }, comment: missed }, 'd-2');
    expect(r2.status).toBe(200); // the ingress's answer to a duplicate
    expect(await r2.json()).toMatchObject({ duplicate: true });
    // a few more polls: still one event each
    const polls = gh.state.requests.filter((q) => q.path === '/repos/acme/rec/issues/comments').length;
    await until(async () => gh.state.requests.filter((q) => q.path === '/repos/acme/rec/issues/comments').length, (n) => n >= polls + 2, 'two more polls');
    expect((await events(dir)).length).toBe(3);

    // the executor is down while a comment is made (GitHub's delivery fails, and is not retried):
    // the next executor's poll, from the cursor in the store, finds it
    await ex.stop();
    gh.addReviewComment(repo, 5, { body: 'nit: rename', path: 'src/cache.ts', user: { login: 'erin', type: 'User' } });
    const next = await runExecutor(['start', '--port', '0'], { cwd: dir, env });
    running.push(next);
    const after = await until(() => events(dir), (e) => e.length >= 4, 'the comment made while down');
    expect(after.find((e) => e.payload.provenance.platform_event === 'pull_request_review_comment')?.payload.payload).toMatchObject({ comment_body: 'nit: rename', path: 'src/cache.ts' });
  });

  it('issues, readiness, comment edits and check suites: the missed ones are found, each stored once whichever path came first', async () => {
    const env = { GITHUB_TOKEN: 'gh-tok', GITHUB_WEBHOOK_SECRET: SECRET, GITHUB_API_URL: gh.url };
    const repo = 'acme/rec2';
    const events_ = '      events: [issues, pull_request.ready_for_review, issue_comment, check_suite.completed]';
    const dir = tempProject({ 'orgloop.yaml': project(events_).replace('repo_name: rec\n', 'repo_name: rec2\n') });
    expect((await cli(['apply', '--auto-approve'], { cwd: dir, env })).code).toBe(0);
    gh.repo(repo);
    const ex = await runExecutor(['start', '--port', '0'], { cwd: dir, env });
    running.push(ex);
    const polls = () => gh.state.requests.filter((q) => q.path === `/repos/${repo}/issues/events`).length;
    await until(async () => polls(), (n) => n >= 1, 'the first poll');

    const repository = { full_name: repo };
    const snap = <T>(v: T): T => structuredClone(v);
    const carol = { login: 'carol', type: 'User' as const };
    // an issue is opened (delivered), labeled (missed) and assigned (delivered)
    const issue = gh.addIssue(repo, { number: 7, title: 'Login fails', user: { login: 'bob', type: 'User' } });
    expect((await deliver(ex.url, 'issues', { action: 'opened', repository, issue: snap(issue), sender: issue.user }, 'i-1')).status).toBe(202);
    const labeled = gh.labelIssue(repo, 7, 'bug', carol);
    const labeledBody = { action: 'labeled', repository, issue: snap(labeled.issue), label: { name: 'bug' }, sender: carol };
    const assigned = gh.assignIssue(repo, 7, { login: 'erin', type: 'User' }, carol);
    expect([202, 200]).toContain((await deliver(ex.url, 'issues', { action: 'assigned', repository, issue: snap(assigned.issue), assignee: { login: 'erin', type: 'User' }, sender: carol }, 'i-2')).status);
    // a draft PR made ready for review (missed)
    gh.addPull(repo, { number: 8, title: 'Fix login', draft: true, user: { login: 'bob', type: 'User' } });
    const ready = gh.markReady(repo, 8, { login: 'bob', type: 'User' });
    const readyBody = { action: 'ready_for_review', repository, pull_request: snap(ready.pull), sender: { login: 'bob', type: 'User' } };
    // a comment (delivered), edited two seconds later (missed)
    const comment = gh.addIssueComment(repo, 7, { body: 'cannot reproduce', user: { login: 'dave', type: 'User' } });
    expect([202, 200]).toContain((await deliver(ex.url, 'issue_comment', { action: 'created', repository, issue: snap(issue), comment: snap(comment) }, 'c-1')).status);
    const edited = gh.editIssueComment(repo, comment.id, 'reproduced on Safari', Date.parse(comment.created_at) + 2000);
    const editedBody = { action: 'edited', repository, issue: snap(issue), comment: snap(edited), changes: { body: { from: 'cannot reproduce' } } };
    // check suites on the default branch: one failed (missed), one passed (delivered)
    const failedSuite = gh.addCheckSuite(repo, { conclusion: 'failure', head_sha: 'f00d' });
    const passed = gh.addCheckSuite(repo, { conclusion: 'success', head_sha: 'beef' });
    expect([202, 200]).toContain((await deliver(ex.url, 'check_suite', { action: 'completed', repository, check_suite: snap(passed) }, 's-1')).status);

    type Row = { dedupe_key?: string; payload: any };
    const name = (e: Row) => e.payload.provenance.platform_event as string;
    const got = await until(() => events(dir), (e) => e.length >= 8, 'the reconciled events');
    expect(got.map(name).sort()).toEqual([
      'check_suite.completed',
      'check_suite.completed',
      'issue_comment',
      'issue_comment.edited',
      'issues.assigned',
      'issues.labeled',
      'issues.opened',
      'pull_request.ready_for_review',
    ]);
    // what GitHub never delivered came from the poll, in the webhook's shapes
    const one = (n: string, where: (e: Row) => boolean = () => true) => got.find((e) => name(e) === n && where(e))!.payload;
    expect(one('issues.labeled')).toMatchObject({ provenance: { reconciled: true, label: 'bug', author: 'carol' }, payload: { action: 'labeled', issue_number: 7, label: 'bug' } });
    expect(one('pull_request.ready_for_review')).toMatchObject({ provenance: { reconciled: true, pr_number: 8 }, payload: { action: 'ready_for_review', pr_number: 8, head_ref: 'feature-8' } });
    expect(one('issue_comment.edited')).toMatchObject({ provenance: { reconciled: true }, payload: { comment_body: 'reproduced on Safari', issue_number: 7 } });
    expect(one('check_suite.completed', (e) => e.payload.payload.head_sha === 'f00d')).toMatchObject({ provenance: { reconciled: true }, payload: { conclusion: 'failure', failed: true } });
    // ... and the poll asked GitHub's listings for them
    const paths = new Set(gh.state.requests.map((q) => q.path));
    for (const p of ['/issues', '/issues/events', '/commits/HEAD/check-suites', '/issues/comments']) expect(paths.has(`/repos/${repo}${p}`)).toBe(true);

    // GitHub redelivers each missed one by hand: all duplicates of what the poll stored
    for (const [ev, body, id] of [
      ['issues', labeledBody, 'r-1'],
      ['pull_request', readyBody, 'r-2'],
      ['issue_comment', editedBody, 'r-3'],
      ['check_suite', { action: 'completed', repository, check_suite: snap(failedSuite) }, 'r-4'],
    ] as const) {
      const r = await deliver(ex.url, ev, body, id);
      expect({ ev, status: r.status, body: await r.json() }).toMatchObject({ ev, status: 200, body: { duplicate: true } });
    }
    // two more polls find nothing new
    const before = polls();
    await until(async () => polls(), (n) => n >= before + 2, 'two more polls');
    const after = await events(dir);
    expect(after.length).toBe(8);
    expect(new Set(after.map((e) => e.dedupe_key)).size).toBe(8);
  });

  it('validate names what reconciliation needs; without a secret it stays off', async () => {
    const dir = tempProject({ 'orgloop.yaml': project().replace(/ {6}secret: .*\n/, '') });
    const r = await cli(['validate'], { cwd: dir, env: { GITHUB_TOKEN: 'gh-tok', GITHUB_API_URL: gh.url } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/orgloop\.yaml:\d+:\d+: .*reconciliation needs secret: it reads the repository's API with the token, and only signed deliveries can be matched/);
  });
});
