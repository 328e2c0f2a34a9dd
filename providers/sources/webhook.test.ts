import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookRequest, WebhookResult } from '../types.js';
import { signGithub, standardHeaders, hmacSha256 } from '../lib/signatures.js';
import { makeCtx } from '../lib/test-helpers/context.js';
import { startServer } from '../lib/test-helpers/http.js';
import { DEFAULT_MAX_BODY, webhookMaxBody, webhookPath, webhookSource } from './webhook.js';

// A minimal ingress, as the executor's: route by path to a source config, hand the raw request
// to handleWebhook, answer with its status.
const configs: Record<string, Record<string, unknown>> = {
  open: {},
  gh: { secret: 'gh-secret' },
  std: { secret: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'second-secret'], signature: 'standard' },
  hmac: { hmac_secret: 'plain', signature: 'hmac-sha256', signature_header: 'X-Org-Signature' },
  custom: { event_type: 'message.received', platform: 'contracts' },
  byfield: { dedupe_field: 'ticket.id' },
};

let srv: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  srv = await startServer(async (rec, res) => {
    const id = rec.url.split('/').pop()!;
    const headers: WebhookRequest['headers'] = {};
    for (const [k, v] of Object.entries(rec.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const result: WebhookResult = await webhookSource.handleWebhook!(makeCtx(configs[id]!, { name: id }), {
      method: rec.method,
      path: rec.url,
      headers,
      rawBody: rec.body,
    });
    res.statusCode = result.ok ? 202 : result.status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(result));
  });
});
afterAll(() => srv.close());

async function post(id: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${srv.url}/webhook/${id}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, json: (await res.json()) as WebhookResult };
}

describe('webhook source over HTTP', () => {
  it("accepts the seed's first-run curl with no secret configured", async () => {
    const r = await post('open', '{"type": "test", "message": "hello from orgloop"}');
    expect(r.status).toBe(202);
    expect(r.json).toEqual({
      ok: true,
      events: [{ type: 'resource.changed', provenance: { platform: 'webhook', platform_event: 'test' }, payload: { type: 'test', message: 'hello from orgloop' } }],
    });
  });

  it('uses config event_type / platform; a body id is not a dedupe key unless dedupe_field names it (hole 20)', async () => {
    const r = await post('custom', '{"id": 77, "text": "hi"}');
    expect(r.json).toMatchObject({ ok: true, events: [{ type: 'message.received', provenance: { platform: 'contracts' } }] });
    expect((r.json as { events: Array<{ dedupe_key?: string }> }).events[0]!.dedupe_key).toBeUndefined();
    const keyed = await post('byfield', '{"ticket": {"id": "T-1"}, "status": "open"}');
    expect(keyed.json).toMatchObject({ events: [{ dedupe_key: 'field:ticket.id=T-1' }] });
    const transport = await post('open', '{"id": 1}', { 'idempotency-key': 'k-1' });
    expect(transport.json).toMatchObject({ events: [{ dedupe_key: 'k-1' }] });
  });

  it('rejects bad JSON (400), non-object bodies (400) and non-JSON content types (415)', async () => {
    expect(await post('open', '{nope')).toMatchObject({ status: 400, json: { ok: false, error: expect.stringContaining('invalid JSON body') } });
    expect(await post('open', '[1,2]')).toMatchObject({ status: 400, json: { error: 'JSON body must be an object' } });
    expect(await post('open', 'null')).toMatchObject({ status: 400, json: { error: 'JSON body must be an object' } });
    expect(await post('open', 'a=b', { 'content-type': 'text/plain' })).toMatchObject({
      status: 415,
      json: { error: 'unsupported content type "text/plain": send application/json' },
    });
    expect((await post('open', '{}', { 'content-type': 'application/vnd.api+json; charset=utf-8' })).status).toBe(202);
  });

  it('GitHub: verifies X-Hub-Signature-256, maps event + action, dedupes on the signed body (not the unsigned delivery id)', async () => {
    const body = JSON.stringify({ action: 'submitted', sender: { login: 'dependabot[bot]', type: 'Bot' }, review: { state: 'approved' } });
    const r = await post('gh', body, {
      'x-hub-signature-256': signGithub('gh-secret', body),
      'x-github-event': 'pull_request_review',
      'x-github-delivery': 'd-123',
    });
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({
      events: [
        {
          dedupe_key: `sha256:${createHash('sha256').update(body).digest('hex')}`,
          provenance: { platform: 'github', platform_event: 'pull_request_review.submitted', author: 'dependabot[bot]', author_type: 'bot' },
        },
      ],
    });
    const bad = await post('gh', body, { 'x-hub-signature-256': signGithub('wrong', body) });
    expect(bad).toMatchObject({ status: 401, json: { error: 'X-Hub-Signature-256 does not match' } });
  });

  it('a configured secret rejects unsigned requests', async () => {
    expect(await post('gh', '{}')).toMatchObject({
      status: 401,
      json: { error: 'missing signature: expected X-Hub-Signature-256, webhook-signature or x-signature' },
    });
    expect(await post('std', '{}')).toMatchObject({ status: 401, json: { error: expect.stringContaining('missing Standard Webhooks header(s)') } });
  });

  it('Standard Webhooks: any rotated secret, whsec_ keys, replay window', async () => {
    const body = '{"type":"contract.signed"}';
    for (const secret of ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'second-secret']) {
      const r = await post('std', body, standardHeaders(secret, 'msg_9', body));
      expect(r).toMatchObject({ status: 202, json: { events: [{ dedupe_key: 'msg_9', provenance: { platform_event: 'contract.signed' } }] } });
    }
    const stale = standardHeaders('second-secret', 'msg_9', body, new Date(Date.now() - 10 * 60_000));
    expect(await post('std', body, stale)).toMatchObject({ status: 401, json: { error: 'webhook-timestamp outside the 300s replay window' } });
    const future = standardHeaders('second-secret', 'msg_9', body, new Date(Date.now() + 10 * 60_000));
    expect((await post('std', body, future)).status).toBe(401);
    const wrong = standardHeaders('not-active', 'msg_9', body);
    expect(await post('std', body, wrong)).toMatchObject({ status: 401, json: { error: 'webhook-signature does not match' } });
  });

  it('plain HMAC in a configured header; signature checked before the body is parsed', async () => {
    const body = '{"a":1}';
    const sig = hmacSha256('plain', body).toString('hex');
    expect((await post('hmac', body, { 'x-org-signature': sig })).status).toBe(202);
    expect(await post('hmac', body, { 'x-org-signature': hmacSha256('nope', body).toString('hex') })).toMatchObject({
      status: 401,
      json: { error: 'x-org-signature does not match' },
    });
    expect((await post('hmac', '{bad', { 'x-org-signature': 'ff'.repeat(32) })).status).toBe(401);
  });
});

describe('webhook source config', () => {
  it('resolves path and body limit', () => {
    expect(webhookPath('contracts', {})).toBe('/webhook/contracts');
    expect(webhookPath('contracts', { path: '/hooks/c' })).toBe('/hooks/c');
    expect(webhookMaxBody({})).toBe(DEFAULT_MAX_BODY);
    expect(webhookMaxBody({ max_body: '1MB' })).toBe(1024 * 1024);
  });

  it('validate reports conflicting secrets, a mode without a secret, and a bad size', () => {
    expect(webhookSource.validate!({ secret: 'a', hmac_secret: 'b' })).toEqual([
      { path: 'hmac_secret', message: 'hmac_secret is an alias of secret: set only one of them' },
    ]);
    expect(webhookSource.validate!({ signature: 'github' })).toEqual([{ path: 'signature', message: 'signature: github needs a secret' }]);
    expect(webhookSource.validate!({ max_body: 'huge' })).toEqual([{ path: 'max_body', message: expect.stringContaining('invalid size "huge"') }]);
    expect(webhookSource.validate!({ path: '/webhook/contracts', hmac_secret: 'x' })).toEqual([]);
    const props = webhookSource.configSchema.properties as Record<string, any>;
    expect([props.secret.sensitive, props.hmac_secret.sensitive]).toEqual([true, true]);
  });
});
