import { afterEach, describe, expect, it } from 'vitest';
import { startFakeSlack, type FakeSlack } from '../../test/fakes/slack.js';
import { makeCtx, makeDelivery, makeEvent } from '../lib/test-helpers/context.js';
import { slackActor } from './slack.js';

let slack: FakeSlack;
afterEach(async () => slack?.close());

describe('slack actor', () => {
  it('posts through an incoming webhook with the default text and the prompt', async () => {
    slack = await startFakeSlack();
    const r = await slackActor.deliver(makeCtx({ webhook_url: slack.hookUrl }), makeDelivery());
    expect(r).toEqual({ ok: true });
    expect(slack.messages).toEqual([{ via: 'webhook', text: '[github] pull_request.opened by alice "Fix the thing"\nReview the PR.', body: { text: '[github] pull_request.opened by alice "Fix the thing"\nReview the PR.' } }]);
  });

  it('posts with chat.postMessage, templating channel, text and thread from the event and route', async () => {
    slack = await startFakeSlack();
    const ctx = makeCtx({ token: slack.token, base_url: `${slack.url}/api`, channel: '#support', text: 'PR {{payload.pr_number}}: {{payload.title}}' });
    const r = await slackActor.deliver(ctx, makeDelivery({ routeConfig: { thread_ts: '{{payload.thread}}' }, event: makeEvent({ payload: { pr_number: 7, title: 'Add login', thread: '1700.1' } }) }));
    expect(r).toEqual({ ok: true });
    expect(slack.messages[0]).toMatchObject({ via: 'api', channel: 'C0001', text: 'PR 7: Add login', thread_ts: '1700.1' });
  });

  it('hole 9: a route template is rendered once, so {{...}} inside an event value stays text', async () => {
    slack = await startFakeSlack();
    const ctx = makeCtx({ token: slack.token, base_url: `${slack.url}/api`, channel: '#support' });
    const event = makeEvent({ payload: { title: '{{payload.internal}}', internal: 'do-not-post' } });
    const r = await slackActor.deliver(ctx, makeDelivery({ event, routeConfig: { text: 'New: {{payload.internal}}' }, routeTemplate: { text: 'New: {{payload.title}}' } }));
    expect(r).toEqual({ ok: true });
    expect(slack.messages[0]).toMatchObject({ text: 'New: {{payload.internal}}' });
  });

  it('retries after Retry-After on 429, and fails at once on errors a retry cannot fix', async () => {
    slack = await startFakeSlack();
    slack.rateLimitNext(1, 7);
    const limited = await slackActor.deliver(makeCtx({ webhook_url: slack.hookUrl }), makeDelivery());
    expect(limited).toMatchObject({ ok: false, retryable: true });
    expect((limited as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(6000);

    const api = (config: Record<string, unknown>) => slackActor.deliver(makeCtx({ base_url: `${slack.url}/api`, ...config }), makeDelivery());
    expect(await api({ token: slack.token, channel: '#nowhere' })).toEqual({ ok: false, retryable: false, error: 'Slack chat.postMessage failed: channel_not_found' });
    expect(await api({ token: 'xoxb-wrong', channel: 'C0001' })).toEqual({ ok: false, retryable: false, error: 'Slack chat.postMessage failed: invalid_auth' });
    slack.channels.get('C0001')!.archived = true;
    const gone = await slackActor.deliver(makeCtx({ webhook_url: slack.hookUrl }), makeDelivery());
    expect(gone).toEqual({ ok: false, retryable: false, error: 'Slack incoming webhook failed (410): channel_is_archived' });
    const missing = await slackActor.deliver(makeCtx({ webhook_url: `${slack.url}/services/T0001/B0001/revoked` }), makeDelivery());
    expect(missing).toMatchObject({ ok: false, retryable: false });
  });

  it('doctor: auth.test for a token, a probe for a webhook', async () => {
    slack = await startFakeSlack();
    expect(await slackActor.check!(makeCtx({ token: slack.token, base_url: `${slack.url}/api` }))).toEqual({ ok: true, detail: 'authenticated as orgloop-bot in Acme' });
    expect(await slackActor.check!(makeCtx({ token: 'bad', base_url: `${slack.url}/api` }))).toEqual({ ok: false, detail: 'Slack auth.test failed: invalid_auth' });
    expect((await slackActor.check!(makeCtx({ webhook_url: slack.hookUrl }))).ok).toBe(true);
    expect((await slackActor.check!(makeCtx({ webhook_url: `${slack.url}/services/x` }))).ok).toBe(false);
    expect(slack.messages).toEqual([]);
  });

  it('validates that exactly one way in is configured', () => {
    expect(slackActor.validate!({})).toEqual([{ path: '', message: 'set webhook_url (an incoming webhook) or token (a bot token with chat:write) and channel' }]);
    expect(slackActor.validate!({ webhook_url: 'x', token: 'y' })).toEqual([{ path: 'token', message: 'set webhook_url or token, not both' }]);
  });
});
