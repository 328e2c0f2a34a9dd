import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { githubWebhookSource as src, hookEvents, reconciledEvents, reconciliationInterval } from './github-webhook.js';
import { startFakeGithub, type FakeGithub } from '../../test/fakes/github.js';
import { providerContext } from '../../test/fakes/context.js';
import { signGithub } from '../lib/signatures.js';

const REPO = 'acme/api';
let gh: FakeGithub;
beforeEach(async () => {
  gh = await startFakeGithub({ token: 'tok' });
  gh.repo(REPO);
});
afterEach(() => gh.close());

const cfg = (extra: Record<string, unknown> = {}) => ({
  repo: REPO,
  token: 'tok',
  secret: 's3cret',
  public_url: 'https://hooks.example.com',
  base_url: gh.url,
  ...extra,
});
const ctx = (extra: Record<string, unknown> = {}) => providerContext('gh-hook', cfg(extra));

function delivery(event: string, body: unknown, opts: { secret?: string; id?: string } = {}) {
  const raw = Buffer.from(JSON.stringify(body));
  return {
    method: 'POST',
    path: '/webhook/gh-hook',
    headers: {
      'x-github-event': event,
      'x-github-delivery': opts.id ?? 'd-1',
      'x-hub-signature-256': signGithub(opts.secret ?? 's3cret', raw),
      'content-type': 'application/json',
    },
    rawBody: raw,
  };
}

describe('github-webhook lifecycle', () => {
  it('create registers the hook; update changes its events; read sees edits and deletion; delete removes it', async () => {
    const state = await src.create!(ctx({ events: ['pull_request_review', 'issue_comment'] }));
    const hooks = gh.repo(REPO).hooks;
    expect(hooks).toHaveLength(1);
    expect(hooks[0]).toMatchObject({
      id: state.hook_id,
      active: true,
      events: ['issue_comment', 'pull_request_review'],
      config: { url: 'https://hooks.example.com/webhook/gh-hook', content_type: 'json', secret: 's3cret', insecure_ssl: '0' },
    });
    expect(JSON.stringify(state)).not.toContain('s3cret');
    expect(await src.read!(ctx(), state)).toMatchObject({ exists: true, differences: [] });

    const updated = await src.update!(ctx({ events: ['pull_request.review_submitted', 'workflow_run.completed'] }), state);
    expect(updated.hook_id).toBe(state.hook_id);
    expect(gh.repo(REPO).hooks[0].events).toEqual(['pull_request_review', 'workflow_run']);

    // edited on GitHub
    gh.repo(REPO).hooks[0].events = ['push'];
    gh.repo(REPO).hooks[0].active = false;
    const drift = await src.read!(ctx(), updated);
    expect(drift.exists).toBe(true);
    expect(drift.differences).toEqual([
      'events: applied [pull_request_review, workflow_run], on GitHub [push]',
      'active: applied true, on GitHub false (the hook was disabled)',
    ]);

    // deleted on GitHub
    gh.repo(REPO).hooks.length = 0;
    const gone = await src.read!(ctx(), updated);
    expect(gone).toEqual({ exists: false, differences: [`webhook ${state.hook_id} on ${REPO} was deleted on GitHub`] });
    // update re-creates a vanished hook
    const recreated = await src.update!(ctx(), updated);
    expect(gh.repo(REPO).hooks.map((h) => h.id)).toEqual([recreated.hook_id]);

    await src.delete!(ctx(), recreated);
    expect(gh.repo(REPO).hooks).toEqual([]);
    await src.delete!(ctx(), recreated); // already gone: not an error
  });

  it('keeps a full public_url path; without public_url the hook is not managed', async () => {
    const s = await src.create!(ctx({ public_url: 'https://x.example.com/in/github' }));
    expect(gh.repo(REPO).hooks[0].config.url).toBe('https://x.example.com/in/github');
    expect(s.url).toBe('https://x.example.com/in/github');
    const unmanaged = await src.create!(ctx({ public_url: undefined }));
    expect(unmanaged).toEqual({ managed: false });
    expect(await src.read!(ctx(), unmanaged)).toMatchObject({ exists: true });
  });

  it('API errors name the problem', async () => {
    await expect(src.create!(ctx({ token: 'bad' }))).rejects.toThrow(/GitHub rejected the token \(401/);
    await expect(src.create!(ctx({ repo: 'acme/missing' }))).rejects.toThrow(/404 for POST .*acme\/missing\/hooks/);
    expect(src.validate!({ public_url: 'not a url' })).toEqual([
      { path: 'public_url', message: expect.stringContaining('must be an http(s) URL') },
      { path: 'repo', message: expect.stringContaining('required') },
    ]);
    expect(src.replaceOn).toContain('repo');
  });

  it('check authenticates and probes the hooks endpoint', async () => {
    expect(await src.check!(ctx())).toEqual({ ok: true, detail: expect.stringContaining('can manage its webhooks') });
  });
});

describe('github-webhook deliveries', () => {
  const pr = { number: 5, title: 'Fix', html_url: 'https://github.com/acme/api/pull/5', user: { login: 'bob' } };
  const repository = { full_name: REPO };

  it('verifies the signature and maps a review to pull_request.review_submitted, keyed by the review (from the signed body)', async () => {
    const r = await src.handleWebhook!(
      ctx(),
      delivery(
        'pull_request_review',
        { action: 'submitted', repository, pull_request: pr, review: { id: 9, state: 'approved', body: 'LGTM', user: { login: 'carol', type: 'User' } } },
        { id: 'abc-123' },
      ),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({
      type: 'resource.changed',
      // GitHub signs the body, not the delivery id: the item named in the signed body is the
      // identity (issue 17, hole 6), the same key the API poll gives it (reconciliation)
      dedupe_key: 'review:9',
      provenance: { platform: 'github', platform_event: 'pull_request.review_submitted', author: 'carol', author_type: 'team_member', delivery_id: 'abc-123', pr_author: 'bob', pr_number: 5, review_state: 'approved' },
      payload: { repo: REPO, number: 5, title: 'Fix', body: 'LGTM', review_state: 'approved', review_body: 'LGTM', pr_title: 'Fix', action: 'review_submitted' },
    });
  });

  it('merged PRs, bot authors, ping, and unknown events', async () => {
    const merged = await src.handleWebhook!(
      ctx(),
      delivery('pull_request', { action: 'closed', repository, pull_request: { ...pr, merged: true, merged_at: '2025-01-01T00:00:00Z', merged_by: { login: 'renovate[bot]', type: 'Bot' } } }),
    );
    expect(merged.ok && merged.events[0]!.provenance).toMatchObject({ platform_event: 'pull_request.merged', author: 'bob', author_type: 'team_member' });
    expect(merged.ok && merged.events[0]!.payload).toMatchObject({ action: 'merged', merged: true, merged_by: 'renovate[bot]' });
    const ping = await src.handleWebhook!(ctx(), delivery('ping', { zen: 'hi', hook_id: 1 }));
    expect(ping).toEqual({ ok: true, events: [] });
    const push = await src.handleWebhook!(ctx(), delivery('push', { ref: 'refs/heads/main', repository, sender: { login: 'x' } }));
    expect(push.ok && push.events[0]!.provenance?.platform_event).toBe('push');
  });

  it('rejects bad signatures, missing headers and non-JSON bodies with clear errors', async () => {
    const bad = await src.handleWebhook!(ctx(), delivery('ping', {}, { secret: 'other' }));
    expect(bad).toEqual({ ok: false, status: 401, error: 'X-Hub-Signature-256 does not match' });
    const d = delivery('ping', {});
    delete (d.headers as Record<string, string | undefined>)['x-hub-signature-256'];
    expect(await src.handleWebhook!(ctx(), d)).toEqual({ ok: false, status: 401, error: 'missing X-Hub-Signature-256 header' });
    const raw = Buffer.from('a=b');
    const form = { ...delivery('ping', {}), rawBody: raw };
    form.headers['x-hub-signature-256'] = signGithub('s3cret', raw);
    const r = await src.handleWebhook!(ctx(), form);
    expect(r).toEqual({ ok: false, status: 400, error: expect.stringContaining('not JSON') });
  });

  it('hookEvents maps orgloop names to GitHub hook events', () => {
    expect(hookEvents({})).toEqual(['issue_comment', 'pull_request', 'pull_request_review', 'pull_request_review_comment', 'workflow_run']);
    expect(hookEvents({ events: ['pull_request.merged', 'pull_request.opened', 'check_suite.completed'] })).toEqual(['check_suite', 'pull_request']);
  });
});

describe('github-webhook reconciliation settings', () => {
  const base = { repo: 'acme/api', token: 't', secret: 's' };
  it('polls every 5 minutes when token, repo and secret are set; never without a secret (deliveries could not be matched)', () => {
    expect(reconciliationInterval(base)).toBe(300_000);
    expect(reconciliationInterval({ ...base, reconciliation_interval_ms: 60_000 })).toBe(60_000);
    expect(reconciliationInterval({ ...base, reconciliation_interval_ms: 0 })).toBeNull();
    expect(reconciliationInterval({ repo_owner: 'acme', repo_name: 'api', token: 't', secret: 's' })).toBe(300_000);
    expect(reconciliationInterval({ repo: 'acme/api', token: 't' })).toBeNull();
    expect(reconciliationInterval({ repo: 'acme/api', secret: 's' })).toBeNull();
  });
  it('looks for the events the hook is subscribed to and the webhook accepts, that both paths key alike', () => {
    // by default the hook is not subscribed to issues or check suites: no listing is spent on them
    expect(reconciledEvents(base)).toEqual([
      'pull_request.review_submitted',
      'pull_request_review_comment',
      'issue_comment',
      'issue_comment.edited',
      'pull_request.opened',
      'pull_request.closed',
      'pull_request.merged',
      'pull_request.ready_for_review',
      'workflow_run.completed',
    ]);
    expect(reconciledEvents({ ...base, events: ['pull_request_review', 'issue_comment'] })).toEqual(['pull_request.review_submitted', 'issue_comment', 'issue_comment.edited']);
    expect(reconciledEvents({ ...base, events: ['pull_request.merged', 'check_suite.completed'] })).toEqual(['pull_request.closed', 'pull_request.merged', 'check_suite.completed']);
    expect(reconciledEvents({ ...base, events: ['issues.labeled', 'issue_comment.edited'] })).toEqual(['issue_comment.edited', 'issues.labeled']);
    expect(reconciledEvents({ ...base, events: ['issues'] })).toEqual(['issues.opened', 'issues.labeled', 'issues.assigned']);
  });
});
