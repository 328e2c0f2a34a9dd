import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { githubSource } from './github.js';
import { startFakeGithub, type FakeGithub } from '../../test/fakes/github.js';
import { providerContext } from '../../test/fakes/context.js';

const REPO = 'acme/api';
let gh: FakeGithub;

beforeEach(async () => {
  gh = await startFakeGithub({ token: 'tok-1' });
  gh.repo(REPO);
});
afterEach(() => gh.close());

const cfg = (extra: Record<string, unknown> = {}) => ({ repo: REPO, token: 'tok-1', base_url: gh.url, ...extra });
const poll = (config: Record<string, unknown>, cursor: string | null) => githubSource.poll!(providerContext('github', config), cursor, null);
const platformEvents = (r: { events: Array<{ provenance?: { platform_event?: string } }> }) =>
  r.events.map((e) => e.provenance?.platform_event).sort();

describe('github source', () => {
  it('first poll sets a baseline; later items become normalized events', async () => {
    const first = await poll(cfg(), null);
    expect(first.events).toEqual([]);
    expect(first.cursor).toBeTruthy();

    gh.addPull(REPO, { number: 7, title: 'Add login', user: { login: 'bob', type: 'User' } });
    gh.addReview(REPO, 7, { state: 'CHANGES_REQUESTED', body: 'please fix', user: { login: 'carol', type: 'User' } });
    gh.addReviewComment(REPO, 7, { body: 'nit', user: { login: 'dependabot[bot]', type: 'Bot' } });
    gh.addIssueComment(REPO, 7, { body: 'ping', user: { login: 'dave', type: 'User' } });
    gh.addRun(REPO, { conclusion: 'failure', name: 'CI', pull_requests: [{ number: 7 }] });

    const second = await poll(cfg(), first.cursor);
    expect(platformEvents(second)).toEqual([
      'issue_comment',
      'pull_request.opened',
      'pull_request.review_submitted',
      'pull_request_review_comment',
      'workflow_run.completed',
    ]);
    const review = second.events.find((e) => e.provenance?.platform_event === 'pull_request.review_submitted')!;
    expect(review.type).toBe('resource.changed');
    expect(review.payload).toMatchObject({ repo: REPO, number: 7, title: 'Add login', author: 'carol', body: 'please fix', review_state: 'changes_requested', action: 'review_submitted' });
    expect(review.provenance).toMatchObject({ platform: 'github', author: 'carol', author_type: 'team_member' });
    const rc = second.events.find((e) => e.provenance?.platform_event === 'pull_request_review_comment')!;
    expect(rc.provenance?.author_type).toBe('bot');
    expect(rc.payload.title).toBe('Add login');
    const run = second.events.find((e) => e.provenance?.platform_event === 'workflow_run.completed')!;
    expect(run.payload).toMatchObject({ failed: true, conclusion: 'failure', number: 7 });
    expect(new Set(second.events.map((e) => e.dedupe_key)).size).toBe(second.events.length);

    // The overlap window re-reads the same items; their dedupe keys are stable, so the store keeps one.
    const third = await poll(cfg(), second.cursor);
    for (const e of third.events) expect(second.events.map((x) => x.dedupe_key)).toContain(e.dedupe_key);
  });

  it('polled with one config object, as the executor does: an idle poll hands back the same cursor, and changes are still seen', async () => {
    const config = cfg();
    const ctx = providerContext('github', config);
    const first = await githubSource.poll!(ctx, null, null);
    const settled = await githubSource.poll!(ctx, first.cursor, null); // listings answer 200 once and give their ETags
    gh.state.requests = [];
    const idle = await githubSource.poll!(ctx, settled.cursor, null);
    expect(idle.events).toEqual([]);
    expect(idle.cursor).toBe(settled.cursor);
    expect(gh.state.requests.map((r) => [r.path, r.status, Boolean(r.ifNoneMatch)])).toEqual([
      ['/repos/acme/api/pulls', 304, true],
      ['/repos/acme/api/pulls/comments', 304, true],
      ['/repos/acme/api/issues/comments', 304, true],
      ['/repos/acme/api/actions/runs', 304, true],
    ]);

    gh.addPull(REPO, { number: 3, title: 'Fix', user: { login: 'bob', type: 'User' } });
    gh.addIssueComment(REPO, 3, { body: 'hello', user: { login: 'dave', type: 'User' } });
    const busy = await githubSource.poll!(ctx, idle.cursor, null);
    expect(platformEvents(busy)).toEqual(['issue_comment', 'pull_request.opened']);
    expect(busy.cursor).not.toBe(idle.cursor);
    // an older cursor (say, the commit of `busy` failed) is read again, not mistaken for the newer one
    const retried = await githubSource.poll!(ctx, idle.cursor, null);
    expect(platformEvents(retried)).toEqual(['issue_comment', 'pull_request.opened']);
    const after = await githubSource.poll!(ctx, busy.cursor, null);
    expect(after.events.every((e) => busy.events.some((b) => b.dedupe_key === e.dedupe_key))).toBe(true);
    const quiet = await githubSource.poll!(ctx, after.cursor, null);
    expect(quiet.events.every((e) => busy.events.some((b) => b.dedupe_key === e.dedupe_key))).toBe(true);
    expect(JSON.parse(quiet.cursor!)).toEqual(JSON.parse(after.cursor!));
  });

  it('merged and closed PRs, authors filter and events filter', async () => {
    const first = await poll(cfg(), null);
    const t = new Date().toISOString();
    gh.addPull(REPO, { number: 1, state: 'closed', closed_at: t, merged_at: t, merged_by: { login: 'erin', type: 'User' } });
    gh.addPull(REPO, { number: 2, state: 'closed', closed_at: t, user: { login: 'frank', type: 'User' } });
    const r = await poll(cfg({ events: ['pull_request.merged', 'pull_request.closed'] }), first.cursor);
    expect(platformEvents(r)).toEqual(['pull_request.closed', 'pull_request.merged']);
    // as OrgLoop: the author of a PR's state change is the PR's author; who merged is payload.merged_by
    const merged = r.events.find((e) => e.provenance?.platform_event === 'pull_request.merged')!;
    expect(merged.provenance?.author).toBe('alice');
    expect(merged.payload).toMatchObject({ action: 'merged', merged: true, merged_by: 'erin', pr_number: 1 });
    const onlyFrank = await poll(cfg({ authors: ['frank'] }), first.cursor);
    expect(onlyFrank.events.map((e) => `${e.provenance?.platform_event} ${e.provenance?.author}`).sort()).toEqual(['pull_request.closed frank', 'pull_request.opened frank']);
  });

  it('sends If-None-Match with the stored ETag; 304 answers cost no rate limit', async () => {
    const first = await poll(cfg({ events: ['issue_comment'] }), null);
    const second = await poll(cfg({ events: ['issue_comment'] }), first.cursor);
    const before = gh.state.rate.remaining;
    gh.state.requests.length = 0;
    const third = await poll(cfg({ events: ['issue_comment'] }), second.cursor);
    const commentsReq = gh.state.requests.find((r) => r.path.endsWith('/issues/comments'))!;
    expect(commentsReq.ifNoneMatch).toMatch(/^W\/"/);
    expect(commentsReq.status).toBe(304);
    expect(gh.state.rate.remaining).toBe(before);
    expect(third.events).toEqual([]);
  });

  it('follows Link pagination', async () => {
    const first = await poll(cfg({ events: ['issue_comment'] }), null);
    gh.addPull(REPO, { number: 3 });
    for (let i = 0; i < 250; i++) gh.addIssueComment(REPO, 3, { body: `c${i}` });
    const r = await poll(cfg({ events: ['issue_comment'] }), first.cursor);
    expect(r.events).toHaveLength(250);
    const pages = gh.state.requests.filter((q) => q.path.endsWith('/issues/comments') && q.status === 200).map((q) => q.query.page ?? '1');
    expect(pages.slice(-3)).toEqual(['1', '2', '3']);
  });

  it('stops when the rate limit is exhausted and waits until the reset', async () => {
    const first = await poll(cfg(), null);
    gh.addPull(REPO, { number: 9 });
    gh.addIssueComment(REPO, 9, { body: 'x' });
    gh.state.rate.remaining = 1; // enough for the pulls listing only
    gh.state.rate.reset = Math.floor(Date.now() / 1000) + 120;
    const r = await poll(cfg(), first.cursor);
    expect(r.retryAfterMs).toBeGreaterThan(60_000);
    expect(r.retryAfterMs).toBeLessThanOrEqual(122_000);
    const afterLimit = gh.state.requests.filter((q) => q.status === 403).length;
    expect(afterLimit).toBeLessThanOrEqual(1); // never hammers a limited API
    // what was collected before the limit is kept; the comments endpoint resumes from its old since
    const cursor = JSON.parse(r.cursor!);
    expect(cursor.repos[REPO].since.issue_comments).toBe(JSON.parse(first.cursor!).repos[REPO].since.issue_comments);
    // a restarted poller with this cursor waits without asking GitHub again
    const requests = gh.state.requests.length;
    const again = await poll(cfg(), r.cursor);
    expect(gh.state.requests.length).toBe(requests);
    expect(again.retryAfterMs).toBeGreaterThan(60_000);
    expect(again.cursor).toBe(r.cursor);
  });

  it('honours a secondary rate limit Retry-After', async () => {
    const first = await poll(cfg(), null);
    gh.state.secondaryLimitNext = 1;
    const r = await poll(cfg(), first.cursor);
    expect(r.retryAfterMs).toBeGreaterThanOrEqual(60_000);
  });

  it('re-reads the token on every poll (rotation) and reports 401 clearly', async () => {
    const first = await poll(cfg(), null);
    gh.state.token = 'tok-2';
    await expect(poll(cfg(), first.cursor)).rejects.toThrow(/GitHub rejected the token \(401 Bad credentials\)/);
    const ok = await githubSource.poll!(providerContext('github', { repo: REPO, base_url: gh.url }, { GITHUB_TOKEN: 'tok-2' }), first.cursor, null);
    expect(ok.cursor).toBeTruthy();
    expect(gh.state.requests.at(-1)!.auth).toBe('Bearer tok-2');
  });

  it('polls several repos; a missing repo is a clear 404 error', async () => {
    gh.repo('acme/web');
    const first = await poll({ repos: [REPO, 'acme/web'], token: 'tok-1', base_url: gh.url }, null);
    gh.addIssueComment('acme/web', 1, { body: 'hi' });
    const r = await poll({ repos: [REPO, 'acme/web'], token: 'tok-1', base_url: gh.url }, first.cursor);
    expect(r.events.map((e) => e.payload.repo)).toEqual(['acme/web']);
    await expect(poll(cfg({ repo: 'acme/nope' }), null)).rejects.toThrow(/404 for GET .*acme\/nope\/pulls/);
  });

  it('check: GET /user and the repo; validate names bad config', async () => {
    const ok = await githubSource.check!(providerContext('github', cfg()));
    expect(ok).toEqual({ ok: true, detail: expect.stringContaining('authenticated as octocat') });
    const bad = await githubSource.check!(providerContext('github', cfg({ token: 'wrong' })));
    expect(bad.ok).toBe(false);
    expect(bad.detail).toMatch(/401/);
    expect(githubSource.validate!({ events: ['pull_request_reveiw'] })).toEqual([
      { path: 'repo', message: expect.stringContaining('repo: owner/name') },
      { path: 'events.0', message: expect.stringContaining('unknown github event "pull_request_reveiw"') },
    ]);
  });
});
