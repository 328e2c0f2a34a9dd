import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { linearSource } from './linear.js';
import { handleLinearWebhook, linearWebhookSource } from './linear-webhook.js';
import { startFakeLinear, type FakeLinear } from '../../test/fakes/linear.js';
import { providerContext } from '../../test/fakes/context.js';
import { hmacSha256 } from '../lib/signatures.js';

let ln: FakeLinear;
beforeEach(async () => {
  ln = await startFakeLinear({ apiKey: 'lin_api_k1' });
});
afterEach(() => ln.close());

const cfg = (extra: Record<string, unknown> = {}) => ({ team: 'ENG', api_key: 'lin_api_k1', base_url: ln.url, ...extra });
const poll = (config: Record<string, unknown>, cursor: string | null) => linearSource.poll!(providerContext('linear', config), cursor, null);
const kinds = (r: { events: Array<{ provenance?: { platform_event?: string } }> }) => r.events.map((e) => e.provenance?.platform_event);

describe('linear source', () => {
  it('emits created, state changes and comments; overlap never doubles', async () => {
    const first = await poll(cfg(), null);
    expect(first.events).toEqual([]);
    const a = ln.addIssue({ title: 'Login broken', description: 'steps...' });
    ln.addIssue({ title: 'Other team', team: { id: 't2', key: 'OPS', name: 'Ops' } });
    ln.addComment(a.id, { body: 'on it' });

    const second = await poll(cfg(), first.cursor);
    expect(kinds(second)).toEqual(['issue.created', 'comment.created']);
    expect(second.events[0]!.payload).toMatchObject({ team: 'ENG', issue_id: a.identifier, number: a.identifier, title: 'Login broken', body: 'steps...', state: 'Todo', url: a.url });
    expect(second.events[1]!.payload).toMatchObject({ issue_id: a.identifier, title: 'Login broken', body: 'on it', author: 'Grace' });

    ln.updateIssue(a.id, { state: { id: 's-prog', name: 'In Progress', type: 'started' } });
    const third = await poll(cfg(), second.cursor);
    // the overlap re-reads the comment with the same dedupe key; the issue change is new
    const fresh = third.events.filter((e) => !second.events.some((p) => p.dedupe_key === e.dedupe_key));
    expect(kinds({ events: fresh })).toEqual(['issue.state_changed']);
    expect(fresh[0]!.payload).toMatchObject({ previous_state: 'Todo', state: 'In Progress' });

    // GraphQL shapes: variables carry the team filter, updatedAt.gt and pagination arguments
    const req = ln.state.requests.find((r) => r.operationName === 'OrgloopIssues')!;
    expect(req.variables).toMatchObject({ filter: { team: { key: { eq: 'ENG' } }, updatedAt: { gt: expect.any(String) } }, first: 50, after: null });
    expect(req.authorization).toBe('lin_api_k1');
  });

  it('filters by project and follows pageInfo.endCursor; max_pages resumes without skipping', async () => {
    const first = await poll(cfg({ project: 'Auth' }), null);
    for (let i = 0; i < 120; i++) ln.addIssue({ title: `i${i}`, project: { id: 'p1', name: i % 2 ? 'Auth' : 'Billing' } });
    const all = await poll(cfg({ project: 'Auth' }), first.cursor);
    expect(all.events).toHaveLength(60);
    expect(all.events.every((e) => e.payload.project === 'Auth')).toBe(true);

    const limited1 = await poll(cfg({ max_pages: 1 }), first.cursor);
    expect(limited1.events).toHaveLength(50);
    expect(JSON.parse(limited1.cursor!).issues.resume).toBeTruthy();
    const limited2 = await poll(cfg({ max_pages: 1 }), limited1.cursor);
    const limited3 = await poll(cfg({ max_pages: 1 }), limited2.cursor);
    const keys = new Set([...limited1.events, ...limited2.events, ...limited3.events].map((e) => e.dedupe_key));
    expect(keys.size).toBe(120);
    expect(JSON.parse(limited3.cursor!).issues.resume).toBeUndefined();
  });

  it('rate limits wait for the reset; bad keys are named', async () => {
    const first = await poll(cfg(), null);
    ln.state.rate.remaining = 0;
    ln.state.rate.resetAt = Date.now() + 90_000;
    const r = await poll(cfg(), first.cursor);
    expect(r.retryAfterMs).toBeGreaterThan(80_000);
    const { blocked_until, ...rest } = JSON.parse(r.cursor!);
    expect(rest).toEqual(JSON.parse(first.cursor!));
    expect(blocked_until).toBeGreaterThan(Date.now());
    const requests = ln.state.requests.length;
    expect((await poll(cfg(), r.cursor)).retryAfterMs).toBeGreaterThan(80_000);
    expect(ln.state.requests.length).toBe(requests); // no request while blocked
    ln.state.rate.remaining = 100;
    await expect(poll(cfg({ api_key: 'nope' }), first.cursor)).rejects.toThrow(/Linear rejected the API key/);
  });

  it('check uses viewer and verifies the team', async () => {
    expect(await linearSource.check!(providerContext('linear', cfg()))).toEqual({ ok: true, detail: 'authenticated as Ada Lovelace <ada@example.com>; team ENG found' });
    const missing = await linearSource.check!(providerContext('linear', cfg({ team: 'NOPE' })));
    expect(missing).toEqual({ ok: false, detail: expect.stringContaining('team "NOPE" was not found') });
    expect(linearSource.validate!({})).toEqual([{ path: 'team', message: expect.stringContaining('required') }]);
  });
});

describe('linear-webhook source', () => {
  const secret = 'lin_wh_secret';
  const ctx = providerContext('linear-hook', { secret });
  function req(body: Record<string, unknown>, sig?: string) {
    const raw = Buffer.from(JSON.stringify(body));
    return {
      method: 'POST',
      path: '/webhook/linear-hook',
      headers: { 'linear-signature': sig ?? hmacSha256(secret, raw).toString('hex'), 'linear-delivery': 'dlv-1', 'linear-event': String(body.type) },
      rawBody: raw,
    };
  }
  const issueBody = (extra: Record<string, unknown> = {}) => ({
    action: 'update',
    type: 'Issue',
    data: { id: 'i1', identifier: 'ENG-1', title: 'T', description: 'd', state: { name: 'Done' }, team: { key: 'ENG' } },
    updatedFrom: { stateId: 's-old', updatedAt: '2025-01-01T00:00:00Z' },
    url: 'https://linear.app/acme/issue/ENG-1',
    actor: { id: 'u', name: 'Ada', type: 'user' },
    webhookTimestamp: Date.now(),
    ...extra,
  });

  it('verifies Linear-Signature and maps a state change', async () => {
    const r = await linearWebhookSource.handleWebhook!(ctx, req(issueBody()));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.events[0]).toMatchObject({
      type: 'resource.changed',
      dedupe_key: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), // signed body, not the unsigned Linear-Delivery
      // OrgLoop's shape: the author of a state change is the issue's assignee (none here)
      provenance: { platform: 'linear', platform_event: 'issue.state_changed', author: 'unknown', issue_id: 'ENG-1', state: 'Done' },
      payload: { issue_id: 'ENG-1', state: 'Done', team: 'ENG', action: 'state_changed', new_state: 'Done', issue_title: 'T' },
    });
  });

  it('rejects a wrong signature, a stale timestamp, and non-JSON', async () => {
    expect(await linearWebhookSource.handleWebhook!(ctx, req(issueBody(), 'ab'.repeat(32)))).toEqual({ ok: false, status: 401, error: 'Linear-Signature does not match' });
    const stale = handleLinearWebhook(ctx, req(issueBody({ webhookTimestamp: Date.now() - 5 * 60_000 })));
    expect(stale).toEqual({ ok: false, status: 401, error: expect.stringContaining('outside the 60s replay window') });
    const raw = Buffer.from('nope');
    const r = handleLinearWebhook(ctx, { method: 'POST', path: '/', headers: { 'linear-signature': hmacSha256(secret, raw).toString('hex') }, rawBody: raw });
    expect(r).toEqual({ ok: false, status: 400, error: 'body is not JSON' });
  });
});
