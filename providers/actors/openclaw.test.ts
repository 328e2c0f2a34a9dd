import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openclawActor } from './openclaw.js';
import { startFakeOpenclaw, type FakeOpenclaw } from '../../test/fakes/openclaw.js';
import { providerContext } from '../../test/fakes/context.js';
import type { DeliveryRequest, OrgEvent } from '../types.js';

let oc: FakeOpenclaw;
beforeEach(async () => {
  oc = await startFakeOpenclaw({ token: 'oc-secret' });
});
afterEach(() => oc.close());

const event: OrgEvent = {
  id: 'evt_1',
  type: 'resource.changed',
  source: 'github',
  time: '2025-01-01T00:00:00Z',
  provenance: { platform: 'github', platform_event: 'pull_request_review', author: 'carol', author_type: 'user' },
  payload: { repo: 'acme/api', number: 7, title: 'Add login', url: 'https://github.com/acme/api/pull/7', body: 'please fix the null check' },
  trace_id: 'tr_1',
  hops: 0,
};

function request(routeConfig: Record<string, unknown> = {}, extra: Partial<DeliveryRequest> = {}): DeliveryRequest {
  return { delivery_id: 'dlv_1', attempt: 1, route: 'pr-review', event, eventJson: JSON.stringify(event), prompt: '# PR review SOP\nAddress every comment.', routeConfig, timeoutMs: 5000, signal: new AbortController().signal, ...extra };
}
const ctx = (extra: Record<string, unknown> = {}, env: Record<string, string> = {}) =>
  providerContext('engineering-agent', { base_url: oc.url, agent_id: 'eng', auth_token_env: 'oc-secret', default_channel: 'slack', default_to: '#eng', ...extra }, env);

describe('openclaw actor', () => {
  it('POSTs /hooks/agent with bearer token, agent, session key, wake mode and a message from the prompt and event', async () => {
    const r = await openclawActor.deliver(ctx(), request({ session_key: 'pr-{{payload.number}}', deliver: true }));
    expect(r).toEqual({ ok: true });
    expect(oc.state.runs).toHaveLength(1);
    const run = oc.state.runs[0]!;
    expect(run.headers.authorization).toBe('Bearer oc-secret');
    expect(run.headers['idempotency-key']).toBe('dlv_1');
    expect(run.body).toMatchObject({ agentId: 'eng', sessionKey: 'pr-7', wakeMode: 'now', deliver: true, channel: 'slack', to: '#eng', name: 'OrgLoop' });
    const msg: string = run.body.message;
    expect(msg.split('\n')[0]).toBe('[github] resource.changed (pull_request_review) by carol: acme/api#7 "Add login" https://github.com/acme/api/pull/7');
    expect(msg).toContain('please fix the null check');
    expect(msg).toContain('# PR review SOP');
    expect(msg).toContain('"trace_id": "tr_1"');
  });

  it('tells the agent how to report that it finished, with the token of this delivery', async () => {
    await openclawActor.deliver(ctx(), request({}, { callback: { url: 'http://127.0.0.1:4800/callback/engineering-agent', token: 'olcb_abc' } }));
    const msg: string = oc.state.runs[0]!.body.message;
    expect(msg).toContain('POST http://127.0.0.1:4800/callback/engineering-agent\nAuthorization: Bearer olcb_abc\nContent-Type: application/json');
    expect(msg).toContain('{"delivery_id":"dlv_1","outcome":"success"');
  });

  it('defaults: session key per source and route, deliver false; route config overrides actor defaults', async () => {
    await openclawActor.deliver(ctx(), request({ agent_id: 'reviewer', channel: 'discord', wake_mode: 'next-heartbeat' }));
    expect(oc.state.runs[0]!.body).toMatchObject({ agentId: 'reviewer', sessionKey: 'orgloop:github:pr-review', deliver: false, channel: 'discord', wakeMode: 'next-heartbeat' });
  });

  it("OrgLoop's module-spec spelling: webhook_url (the full /hooks/agent URL), token and agent", async () => {
    const c = providerContext('engineering-agent', { webhook_url: `${oc.url}/hooks/agent`, token: 'oc-secret', agent: 'eng' }, {});
    expect(openclawActor.validate!(c.config, { projectDir: '.', env: () => undefined })).toEqual([]);
    expect(await openclawActor.deliver(c, request())).toEqual({ ok: true });
    expect(oc.state.runs[0]!.headers.authorization).toBe('Bearer oc-secret');
    expect(oc.state.runs[0]!.body).toMatchObject({ agentId: 'eng' });
    expect((openclawActor.configSchema.properties as Record<string, { sensitive?: boolean }>).token!.sensitive).toBe(true);
  });

  it('auth_token_env may name the variable', async () => {
    const r = await openclawActor.deliver(ctx({ auth_token_env: 'OPENCLAW_TOKEN' }, { OPENCLAW_TOKEN: 'oc-secret' }), request());
    expect(r).toEqual({ ok: true });
  });

  it('classifies failures: 401 permanent with a hint, 429/503 retryable with Retry-After, timeouts and refused connections retryable', async () => {
    const bad = await openclawActor.deliver(ctx({ auth_token_env: 'wrong' }), request());
    expect(bad).toEqual({ ok: false, retryable: false, error: expect.stringMatching(/HTTP 401.*check auth_token_env/) });

    oc.state.failNext.push({ status: 429, retryAfter: '7' }, { status: 503 });
    expect(await openclawActor.deliver(ctx(), request())).toEqual({ ok: false, retryable: true, error: expect.stringContaining('HTTP 429'), retryAfterMs: 7000 });
    expect(await openclawActor.deliver(ctx(), request())).toEqual({ ok: false, retryable: true, error: expect.stringContaining('HTTP 503') });

    oc.state.delayMs = 500;
    const slow = await openclawActor.deliver(ctx({ timeout: '100ms' }), request());
    expect(slow).toEqual({ ok: false, retryable: true, error: 'OpenClaw gateway did not answer within 100ms' });
    oc.state.delayMs = 0;

    const url = oc.url;
    await oc.close();
    const down = await openclawActor.deliver(ctx({ base_url: url }), request());
    expect(down).toEqual({ ok: false, retryable: true, error: expect.stringMatching(/^OpenClaw gateway at http:\/\/127.0.0.1:\d+ unreachable/) });
    oc = await startFakeOpenclaw();
  });

  it('check: health plus a token probe that starts no run', async () => {
    expect(await openclawActor.check!(ctx())).toEqual({ ok: true, detail: expect.stringContaining('hooks token accepted') });
    expect(oc.state.runs).toHaveLength(0);
    expect(await openclawActor.check!(ctx({ auth_token_env: 'nope' }))).toEqual({ ok: false, detail: expect.stringContaining('rejected the hooks token (HTTP 401)') });
    oc.state.hooksEnabled = false;
    expect((await openclawActor.check!(ctx())).detail).toContain('not enabled');
    expect(openclawActor.validate!({ base_url: 'ftp://x' })).toEqual([{ path: 'base_url', message: expect.stringContaining('not an http(s) URL') }]);
  });
});
