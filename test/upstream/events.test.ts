// OrgLoop 0.7.9's events, field for field: payloads shaped as its connector docs and tests
// describe them (written here, not copied) go through our connectors, and the events carry
// OrgLoop's type, provenance and payload keys; the routes of testdata/upstream/inbound,
// written OrgLoop's way, match what an OrgLoop user expects.

import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { loadProject } from '../../engine/config/load.js';
import { Router } from '../../engine/run/router.js';
import { toOrgEvent } from '../../engine/run/intake.js';
import { providerContext } from '../fakes/context.js';
import { signGithub, hmacSha256 } from '../../providers/lib/signatures.js';
import { githubWebhookSource } from '../../providers/sources/github-webhook.js';
import { linearWebhookSource } from '../../providers/sources/linear-webhook.js';
import { webhookSource } from '../../providers/sources/webhook.js';
import { claudeCodeSource, codexSource, codingAgentSource } from '../../providers/sources/claude-code.js';
import { filterTransform } from '../../providers/transforms/filter.js';
import type { EmittedEvent, OrgEvent, WebhookResult } from '../../providers/types.js';
import '../../providers/registry.js';

const INBOUND = resolve(import.meta.dirname, '../../testdata/upstream/inbound/orgloop.yaml');
const ENV = { GITHUB_WEBHOOK_SECRET: 'gh-sec', LINEAR_WEBHOOK_SECRET: 'lin-sec', SINK_URL: 'http://127.0.0.1:9', SINK_PASSWORD: 'pw', SINK_TOKEN: 'tok' };

async function inboundRouter() {
  const p = await loadProject(INBOUND, { env: ENV });
  const routes = p.resources
    .filter((r) => r.kind === 'route')
    .map((r) => {
      const s = r.spec as { when: { source: string; events: string[]; filter?: Record<string, unknown> } };
      return { name: r.name, source: s.when.source, events: s.when.events, filter: s.when.filter };
    });
  return new Router(routes);
}

const events = (r: WebhookResult): EmittedEvent[] => {
  if (!r.ok) throw new Error(`rejected: ${r.status} ${r.error}`);
  return r.events;
};
const asEvent = (source: string, e: EmittedEvent): OrgEvent => toOrgEvent(source, e);

function ghDelivery(event: string, body: unknown, id = 'd-1') {
  const raw = Buffer.from(JSON.stringify(body));
  return { method: 'POST', path: '/webhook/gh', headers: { 'x-github-event': event, 'x-github-delivery': id, 'x-hub-signature-256': signGithub('gh-sec', raw) }, rawBody: raw };
}
function linearDelivery(body: Record<string, unknown>, id = 'l-1') {
  const raw = Buffer.from(JSON.stringify({ webhookTimestamp: Date.now(), ...body }));
  return { method: 'POST', path: '/webhook/linear-hook', headers: { 'linear-signature': hmacSha256('lin-sec', raw).toString('hex'), 'linear-delivery': id }, rawBody: raw };
}
const json = (body: unknown, headers: Record<string, string> = {}) => ({ method: 'POST', path: '/webhook', headers: { 'content-type': 'application/json', ...headers }, rawBody: Buffer.from(JSON.stringify(body)) });

const repository = { full_name: 'acme/widgets' };
const prAuthor = { login: 'dana', type: 'User' };
const pr = { number: 31, title: 'Cache the catalog', state: 'open', html_url: 'https://github.com/acme/widgets/pull/31', user: prAuthor, labels: [{ name: 'perf' }, { name: 'needs-review' }], head: { ref: 'cache' }, base: { ref: 'main' } };

describe('github-webhook events in OrgLoop shapes', () => {
  const gh = providerContext('gh', { secret: 'gh-sec', events: ['pull_request.review_submitted', 'pull_request_review_comment', 'issue_comment', 'pull_request.closed', 'workflow_run.completed', 'issues.labeled'] });

  it('a submitted review: provenance and payload as OrgLoop; the OrgLoop filter route and the seed route both match', async () => {
    const [e] = events(
      await githubWebhookSource.handleWebhook!(gh, ghDelivery('pull_request_review', { action: 'submitted', repository, pull_request: pr, review: { id: 77, state: 'changes_requested', body: 'Please add a TTL', html_url: 'https://github.com/acme/widgets/pull/31#pullrequestreview-77', user: { login: 'erik', type: 'User' } }, sender: { login: 'erik' } })),
    );
    expect(e).toMatchObject({
      type: 'resource.changed',
      provenance: {
        platform: 'github',
        platform_event: 'pull_request.review_submitted',
        resource_id: 'review-77',
        author: 'erik',
        author_type: 'team_member',
        pr_author: 'dana',
        labels: ['perf', 'needs-review'],
        repo: 'acme/widgets',
        pr_number: 31,
        pr_state: 'open',
        pr_merged: false,
        review_id: 77,
        review_state: 'changes_requested',
      },
      payload: { action: 'review_submitted', review_id: 77, review_state: 'changes_requested', review_body: 'Please add a TTL', pr_title: 'Cache the catalog', pr_number: 31 },
    });
    const router = await inboundRouter();
    expect(router.match(asEvent('gh', e!)).map((r) => r.name)).toEqual(['review submitted (upstream filter)', 'review submitted (seed events)']);
    // and a filter transform written either way passes it
    const f = (pe: string) => filterTransform.transform(providerContext('f', { match: { 'provenance.platform_event': pe } }), asEvent('gh', e!), { seen: async () => false });
    expect(await f('pull_request_review')).toMatchObject({ action: 'pass' });
    expect(await f('pull_request.review_submitted')).toMatchObject({ action: 'pass' });
  });

  it('comments, merges and failed runs carry OrgLoop keys; edits of one comment collapse per window', async () => {
    const [rc] = events(await githubWebhookSource.handleWebhook!(gh, ghDelivery('pull_request_review_comment', { action: 'created', repository, pull_request: pr, comment: { id: 5, body: 'nit: rename', path: 'src/cache.ts', diff_hunk: '@@ -1 +1 @@', user: { login: 'lint-bot[bot]', type: 'Bot' } } })));
    expect(rc).toMatchObject({ provenance: { platform_event: 'pull_request_review_comment', author_type: 'bot', resource_id: 'comment-5' }, payload: { action: 'review_comment', comment_body: 'nit: rename', pr_title: 'Cache the catalog', pr_number: 31, path: 'src/cache.ts', diff_hunk: '@@ -1 +1 @@' } });

    const issue = { number: 40, title: 'Flaky login', state: 'open', user: prAuthor, labels: [] };
    const [ic] = events(await githubWebhookSource.handleWebhook!(gh, ghDelivery('issue_comment', { action: 'created', repository, issue, comment: { id: 9, body: 'seen it too', user: { login: 'erik' } } })));
    expect(ic).toMatchObject({ provenance: { platform_event: 'issue_comment', pr_number: 40 }, payload: { action: 'issue_comment', comment_body: 'seen it too', issue_title: 'Flaky login', issue_number: 40, is_pull_request: false } });
    const edit = (id: string, at: string) => githubWebhookSource.handleWebhook!(gh, ghDelivery('issue_comment', { action: 'edited', repository, issue, comment: { id: 9, body: 'seen it', updated_at: at, user: { login: 'erik' } } }, id));
    const [e1] = events(await edit('d-e1', '2026-03-01T10:00:05Z'));
    const [e2] = events(await edit('d-e2', '2026-03-01T10:00:40Z'));
    expect(e1!.provenance?.platform_event).toBe('issue_comment.edited');
    expect(e1!.dedupe_key).toBe(e2!.dedupe_key);

    const [merged] = events(await githubWebhookSource.handleWebhook!(gh, ghDelivery('pull_request', { action: 'closed', repository, pull_request: { ...pr, merged: true, merged_at: '2026-03-01T11:00:00Z', merged_by: { login: 'erik' } } })));
    expect(merged).toMatchObject({ provenance: { platform_event: 'pull_request.merged', author: 'dana', pr_merged: true }, payload: { action: 'merged', pr_title: 'Cache the catalog', pr_number: 31, merged: true, merged_by: 'erik' } });

    const run = { id: 900, name: 'CI', run_number: 12, status: 'completed', conclusion: 'failure', head_branch: 'cache', head_sha: 'abc123', html_url: 'https://github.com/acme/widgets/actions/runs/900', actor: { login: 'dana' }, pull_requests: [pr] };
    const [failed] = events(await githubWebhookSource.handleWebhook!(gh, ghDelivery('workflow_run', { action: 'completed', repository, workflow_run: run })));
    expect(failed).toMatchObject({ provenance: { platform_event: 'workflow_run.completed', resource_id: 'run-900', pr_author: 'dana' }, payload: { action: 'workflow_run_failed', workflow_name: 'CI', run_number: 12, conclusion: 'failure', head_branch: 'cache', head_sha: 'abc123' } });
    const router = await inboundRouter();
    expect(router.match(asEvent('gh', failed!)).map((r) => r.name)).toEqual(['failed CI']);
    // a run that has only been requested is no event at all
    expect(events(await githubWebhookSource.handleWebhook!(gh, ghDelivery('workflow_run', { action: 'requested', repository, workflow_run: { ...run, status: 'queued', conclusion: null } })))).toEqual([]);
  });

  it('events: filters at ingress; issue events on PRs are dropped; labels and assignees are names', async () => {
    // pull_request.opened is not in the source's events list
    expect(events(await githubWebhookSource.handleWebhook!(gh, ghDelivery('pull_request', { action: 'opened', repository, pull_request: pr })))).toEqual([]);
    const issue = { number: 41, title: 'Add dark mode', state: 'open', html_url: 'https://github.com/acme/widgets/issues/41', labels: [] };
    const [labeled] = events(await githubWebhookSource.handleWebhook!(gh, ghDelivery('issues', { action: 'labeled', repository, issue, label: { name: 'ui' }, sender: { login: 'erik' } })));
    expect(labeled).toMatchObject({ provenance: { platform_event: 'issues.labeled', label: 'ui', author: 'erik' }, payload: { action: 'labeled', issue_number: 41, issue_title: 'Add dark mode', issue_state: 'open', label: 'ui' } });
    expect(events(await githubWebhookSource.handleWebhook!(gh, ghDelivery('issues', { action: 'labeled', repository, issue: { ...issue, pull_request: { url: 'x' } }, label: { name: 'ui' } })))).toEqual([]);
  });

  it('a delivery without the object its kind is about is no event (not a raw one a route on its name would match)', async () => {
    const all = providerContext('gh', { secret: 'gh-sec' });
    const none = async (kind: string, body: Record<string, unknown>) => expect(events(await githubWebhookSource.handleWebhook!(all, ghDelivery(kind, { repository, sender: { login: 'erik' }, ...body })))).toEqual([]);
    await none('pull_request', { action: 'opened' });
    await none('pull_request_review', { action: 'submitted', pull_request: pr });
    await none('pull_request_review_comment', { action: 'created', pull_request: pr });
    await none('issue_comment', { action: 'created', issue: { number: 3 } });
    await none('issue_comment', { action: 'created', comment: { id: 9, body: 'x' } });
    // other kinds still pass through under GitHub's own names
    const [release] = events(await githubWebhookSource.handleWebhook!(all, ghDelivery('release', { action: 'published', repository, release: { tag_name: 'v2.0.0' }, sender: { login: 'erik' } })));
    expect(release).toMatchObject({ type: 'resource.changed', provenance: { platform: 'github', platform_event: 'release.published' } });
  });
});

describe('linear-webhook events in OrgLoop shapes', () => {
  const ctx = providerContext('linear-hook', { secret: 'lin-sec', events: ['Issue', 'Comment'] });
  const data = { id: 'iss-1', identifier: 'WEB-7', title: 'Checkout fails', url: 'https://linear.app/acme/issue/WEB-7', state: { name: 'In Progress' }, assignee: { name: 'Mira' }, priority: 1, labels: [{ name: 'bug' }, { name: 'p1' }], team: { key: 'WEB' }, delegate: { id: 'agent-1', name: 'Agent Smith' } };

  it('an issue update is one event per change, with previous_* and new_*', async () => {
    const r = events(
      await linearWebhookSource.handleWebhook!(
        ctx,
        linearDelivery({ type: 'Issue', action: 'update', data, updatedFrom: { stateId: 's1', state: { name: 'Todo' }, assigneeId: 'u0', assignee: { name: 'Olu' }, priority: 3, labelIds: ['l1'], labels: [{ name: 'bug' }], delegateId: null }, actor: { name: 'Mira', type: 'user' } }),
      ),
    );
    expect(r.map((e) => [e.provenance?.platform_event, e.payload.action])).toEqual([
      ['issue.state_changed', 'state_changed'],
      ['issue.assignee_changed', 'assignee_changed'],
      ['issue.priority_changed', 'priority_changed'],
      ['issue.labels_changed', 'labels_changed'],
      ['issue.delegate_changed', 'delegate_changed'],
    ]);
    expect(r[0]).toMatchObject({ provenance: { author: 'Mira', author_type: 'team_member', issue_id: 'WEB-7', state: 'In Progress' }, payload: { issue_id: 'WEB-7', issue_title: 'Checkout fails', previous_state: 'Todo', new_state: 'In Progress' } });
    expect(r[1]!.payload).toMatchObject({ previous_assignee: 'Olu', new_assignee: 'Mira' });
    expect(r[2]!.payload).toMatchObject({ previous_priority: 3, new_priority: 1 });
    expect(r[3]!.payload).toMatchObject({ previous_labels: ['bug'], new_labels: ['bug', 'p1'], added_labels: ['p1'], removed_labels: [] });
    expect(r[4]!.payload).toMatchObject({ old_delegate_id: null, new_delegate: 'Agent Smith', new_delegate_id: 'agent-1' });
    expect(new Set(r.map((e) => e.dedupe_key)).size).toBe(5);
    const router = await inboundRouter();
    expect(r.map((e) => router.match(asEvent('linear-hook', e)).map((x) => x.name))).toEqual([['ticket moved'], [], [], [], []]);
  });

  it('created issues and comments, and the rest as <type>.<action>', async () => {
    const [created] = events(await linearWebhookSource.handleWebhook!(ctx, linearDelivery({ type: 'Issue', action: 'create', data: { ...data, description: 'Card declined', creator: { name: 'Olu' } } })));
    expect(created).toMatchObject({ provenance: { platform_event: 'issue.created', author: 'Olu', state: 'In Progress' }, payload: { action: 'issue_created', issue_title: 'Checkout fails', issue_description: 'Card declined', state: 'In Progress' } });
    const [comment] = events(await linearWebhookSource.handleWebhook!(ctx, linearDelivery({ type: 'Comment', action: 'create', data: { id: 'c1', body: 'Repro attached', user: { name: 'Olu' }, issue: { identifier: 'WEB-7', title: 'Checkout fails', assignee: { name: 'Mira' }, creator: { name: 'Olu' } } } })));
    expect(comment).toMatchObject({ provenance: { platform_event: 'comment.created', author: 'Olu', issue_id: 'WEB-7', issue_assignee: 'Mira', issue_creator: 'Olu' }, payload: { action: 'comment_created', issue_id: 'WEB-7', issue_title: 'Checkout fails', comment_body: 'Repro attached' } });
    const raw = async (type: string, action: string) => events(await linearWebhookSource.handleWebhook!(ctx, linearDelivery({ type, action, data: { id: 'x' } })))[0]?.provenance?.platform_event;
    expect(await raw('Issue', 'remove')).toBe('issue.remove');
    expect(await raw('Comment', 'update')).toBe('comment.update');
    expect(await raw('Project', 'create')).toBe('project.create');
    // events: [Issue, Comment] leaves other Issue/Comment deliveries out only when not listed
    const onlyComments = providerContext('linear-hook', { secret: 'lin-sec', events: ['Comment'] });
    expect(events(await linearWebhookSource.handleWebhook!(onlyComments, linearDelivery({ type: 'Issue', action: 'create', data })))).toEqual([]);
  });
});

describe('webhook, coding agents and cron in OrgLoop shapes', () => {
  it('webhook: event_type_field names the event, `unknown` when the body has none', async () => {
    const ctx = providerContext('webhook', { path: '/webhook', event_type_field: 'data.event_type' });
    const [deploy] = events(await webhookSource.handleWebhook!(ctx, json({ data: { event_type: 'deployment', env: 'prod' } })));
    expect(deploy).toMatchObject({ type: 'resource.changed', provenance: { platform: 'webhook', platform_event: 'deployment' }, payload: { data: { event_type: 'deployment', env: 'prod' } } });
    const [untyped] = events(await webhookSource.handleWebhook!(ctx, json({ hello: 'world' })));
    expect(untyped!.provenance?.platform_event).toBe('unknown');
    const router = await inboundRouter();
    expect(router.match(asEvent('webhook', deploy!)).map((r) => r.name)).toEqual(['deploys -> notify']);
    expect(router.match(asEvent('webhook', untyped!)).map((r) => r.name)).toEqual(['untyped webhook bodies']);
  });

  it('claude-code and other harnesses: the lifecycle contract', async () => {
    const body = { session_id: 'sess-42', working_directory: '/home/dev/widgets', duration_seconds: 300, exit_status: 0, summary: 'Added the cache' };
    const [done] = events(await claudeCodeSource.handleWebhook!(providerContext('claude-code', { hook_type: 'post-exit' }), json(body)));
    expect(done).toMatchObject({
      type: 'actor.stopped',
      provenance: { platform: 'claude-code', platform_event: 'session.completed', author: 'claude-code', author_type: 'bot', session_id: 'sess-42', working_directory: '/home/dev/widgets' },
      payload: {
        lifecycle: { phase: 'completed', terminal: true, outcome: 'success', reason: 'exit_code_0', dedupe_key: 'claude-code:sess-42:completed' },
        session: { id: 'sess-42', adapter: 'claude-code', harness: 'claude-code', cwd: '/home/dev/widgets', exit_status: 0 },
        session_id: 'sess-42',
        working_directory: '/home/dev/widgets',
        duration_seconds: 300,
        exit_status: 0,
        summary: 'Added the cache',
      },
    });
    const phase = async (exit_status: number) => (events(await claudeCodeSource.handleWebhook!(providerContext('claude-code', {}), json({ ...body, exit_status })))[0]!.payload.lifecycle as Record<string, unknown>);
    expect(await phase(2)).toMatchObject({ phase: 'failed', outcome: 'failure', reason: 'exit_code_2' });
    expect(await phase(130)).toMatchObject({ phase: 'stopped', outcome: 'cancelled', reason: 'sigint' });
    expect(await phase(137)).toMatchObject({ phase: 'stopped', reason: 'sigkill' });
    const [started] = events(await claudeCodeSource.handleWebhook!(providerContext('claude-code', {}), json({ session_id: 'sess-43', hook_type: 'start' })));
    expect(started).toMatchObject({ type: 'resource.changed', provenance: { platform_event: 'session.started' }, payload: { lifecycle: { phase: 'started', terminal: false, dedupe_key: 'claude-code:sess-43:started' } } });
    expect((started!.payload.lifecycle as Record<string, unknown>).outcome).toBeUndefined();

    const [codexFail] = events(await codexSource.handleWebhook!(providerContext('codex', {}), json({ session_id: 'cx-1', cwd: '/w', exit_status: 1, model: 'o4' })));
    expect(codexFail).toMatchObject({ provenance: { platform: 'codex', platform_event: 'session.failed' }, payload: { cwd: '/w', model: 'o4', session: { adapter: 'codex', harness: 'codex' } } });
    const [agent] = events(await codingAgentSource.handleWebhook!(providerContext('agents', { platform: 'my-agents' }), json({ ...body, meta: { ticket: 'WEB-7' } })));
    expect(agent).toMatchObject({ provenance: { platform: 'my-agents' }, payload: { session: { adapter: 'my-agents', harness: 'my-agents', meta: { ticket: 'WEB-7' } }, meta: { ticket: 'WEB-7' } } });
    const router = await inboundRouter();
    expect(router.match(asEvent('agents', agent!)).map((r) => r.name)).toEqual(['any harness completed']);
    expect(router.match(asEvent('codex', codexFail!)).map((r) => r.name)).toEqual(['codex failed']);
  });

  it('the envelope: timestamp and trc_ trace ids beside our own fields', () => {
    const e = toOrgEvent('webhook', { type: 'resource.changed', payload: {}, time: '2026-03-01T10:00:00.000Z' });
    expect(e.id).toMatch(/^evt_[a-z0-9]+$/);
    expect(e.trace_id).toMatch(/^trc_[a-z0-9]+$/);
    expect(e.timestamp).toBe('2026-03-01T10:00:00.000Z');
    expect(e.time).toBe(e.timestamp);
  });
});

