import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyGithub, verifyStandard } from '../lib/signatures.js';
import { makeCtx, makeDelivery, makeEvent } from '../lib/test-helpers/context.js';
import { startServer } from '../lib/test-helpers/http.js';
import { webhookActor } from './webhook.js';
import { parseRetryAfter } from '../lib/http-outcome.js';

// The agent endpoint: behaviour chosen by path.
let srv: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  srv = await startServer(async (rec, res) => {
    const path = rec.url.split('?')[0];
    if (path === '/ok') res.statusCode = 200;
    else if (path === '/busy') {
      res.statusCode = 429;
      res.setHeader('retry-after', '7');
    } else if (path === '/down') {
      res.statusCode = 503;
      res.setHeader('retry-after', new Date(Date.now() + 60_000).toUTCString());
    } else if (path === '/bad') {
      res.statusCode = 422;
      res.end('session_key is required');
      return;
    } else if (path === '/status') {
      res.statusCode = Number(new URLSearchParams(rec.url.split('?')[1]).get('s'));
    } else if (path === '/slow') {
      await new Promise((r) => setTimeout(r, 3000));
      res.statusCode = 200;
    }
    res.end();
  });
});
afterAll(() => srv.close());

const last = () => srv.requests[srv.requests.length - 1]!;

describe('webhook actor', () => {
  it('POSTs event, prompt, route config and delivery, with Standard Webhooks headers and bearer auth', async () => {
    const ctx = makeCtx({ url: `${srv.url}/ok`, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', auth: { bearer: 'tok' }, headers: { 'X-Team': 'eng-{{payload.pr_number}}' } });
    const req = makeDelivery({ attempt: 2 });
    expect(await webhookActor.deliver(ctx, req)).toEqual({ ok: true });
    const r = last();
    expect(r.method).toBe('POST');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers.authorization).toBe('Bearer tok');
    expect(r.headers['x-team']).toBe('eng-42');
    expect(r.headers['webhook-id']).toBe('dlv_1');
    expect(JSON.parse(r.body.toString())).toEqual({
      event: req.event,
      prompt: 'Review the PR.',
      launch_prompt: 'Review the PR.',
      config: { session_key: 'pr-42' },
      delivery: { id: 'dlv_1', attempt: 2, route: 'pr-review' },
    });
    const v = verifyStandard(
      ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
      { id: r.headers['webhook-id'] as string, timestamp: r.headers['webhook-timestamp'] as string, signature: r.headers['webhook-signature'] as string },
      r.body,
    );
    expect(v).toEqual({ ok: true });
  });

  it('hmac_secret (OrgLoop org-to-org) signs the body as X-Hub-Signature-256, which a webhook source with that secret accepts', async () => {
    await webhookActor.deliver(makeCtx({ url: `${srv.url}/ok`, hmac_secret: 'partner-shared' }), makeDelivery());
    const r = last();
    expect(r.headers['x-hub-signature-256']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyGithub(['partner-shared'], r.headers['x-hub-signature-256'] as string, r.body)).toEqual({ ok: true });
    expect(verifyGithub(['other'], r.headers['x-hub-signature-256'] as string, r.body).ok).toBe(false);
    expect((webhookActor.configSchema.properties as Record<string, { sensitive?: boolean }>).hmac_secret!.sensitive).toBe(true);
  });

  it('passes the callback address and token on, in the body and in headers', async () => {
    const callback = { url: 'http://127.0.0.1:4800/callback/eng', token: 'olcb_tok' };
    await webhookActor.deliver(makeCtx({ url: `${srv.url}/ok` }), makeDelivery({ callback }));
    const r = last();
    expect(JSON.parse(r.body.toString()).delivery).toEqual({ id: 'dlv_1', attempt: 1, route: 'pr-review', callback });
    expect(r.headers['orgloop-callback-url']).toBe(callback.url);
    expect(r.headers['orgloop-callback-token']).toBe('olcb_tok');
  });

  it('sends the stored event JSON byte for byte the same as serializing the event', async () => {
    const ctx = makeCtx({ url: `${srv.url}/ok` });
    const req = makeDelivery({ attempt: 1 });
    await webhookActor.deliver(ctx, req);
    const serialized = last().body.toString();
    await webhookActor.deliver(ctx, { ...req, eventJson: JSON.stringify(req.event) });
    const reused = last().body.toString();
    expect(reused).toBe(serialized);
    expect(reused).toBe(JSON.stringify({ event: req.event, prompt: req.prompt, launch_prompt: req.prompt, config: req.routeConfig, delivery: { id: 'dlv_1', attempt: 1, route: 'pr-review' } }));
  });

  it('webhook-id stays the delivery id across retries; no signature without a secret', async () => {
    const ctx = makeCtx({ url: `${srv.url}/ok` });
    await webhookActor.deliver(ctx, makeDelivery({ attempt: 1, delivery_id: 'dlv_same' }));
    await webhookActor.deliver(ctx, makeDelivery({ attempt: 2, delivery_id: 'dlv_same' }));
    const [a, b] = srv.requests.slice(-2);
    expect(a!.headers['webhook-id']).toBe('dlv_same');
    expect(b!.headers['webhook-id']).toBe('dlv_same');
    expect(b!.headers['webhook-signature']).toBeUndefined();
  });

  it('renders a body template and uses the configured method', async () => {
    const ctx = makeCtx({ url: `${srv.url}/ok`, method: 'put', body: { text: 'PR #{{payload.pr_number}}: {{prompt}}', key: '{{config.session_key}}', n: '{{payload.pr_number}}' } });
    expect(await webhookActor.deliver(ctx, makeDelivery())).toEqual({ ok: true });
    expect(last().method).toBe('PUT');
    expect(JSON.parse(last().body.toString())).toEqual({ text: 'PR #42: Review the PR.', key: 'pr-42', n: 42 });
  });

  it('429 and 503 are retryable with Retry-After in seconds or as a date', async () => {
    const busy = await webhookActor.deliver(makeCtx({ url: `${srv.url}/busy` }), makeDelivery());
    expect(busy).toEqual({ ok: false, retryable: true, error: 'HTTP 429 Too Many Requests', retryAfterMs: 7000 });
    const down = await webhookActor.deliver(makeCtx({ url: `${srv.url}/down` }), makeDelivery());
    expect(down.ok).toBe(false);
    if (!down.ok) {
      expect(down.retryable).toBe(true);
      expect(down.error).toBe('HTTP 503 Service Unavailable');
      expect(down.retryAfterMs).toBeGreaterThan(50_000);
      expect(down.retryAfterMs).toBeLessThanOrEqual(60_000);
    }
  });

  it('other 4xx are not retryable and carry the response text', async () => {
    expect(await webhookActor.deliver(makeCtx({ url: `${srv.url}/bad` }), makeDelivery())).toEqual({
      ok: false,
      retryable: false,
      error: 'HTTP 422 Unprocessable Entity: session_key is required',
    });
  });

  it('409 and 425 may change on a later attempt; 400, 401, 403, 404 and 410 cannot', async () => {
    for (const status of [409, 425]) {
      expect(await webhookActor.deliver(makeCtx({ url: `${srv.url}/status?s=${status}` }), makeDelivery())).toMatchObject({ ok: false, retryable: true });
    }
    for (const status of [400, 401, 403, 404, 410]) {
      expect(await webhookActor.deliver(makeCtx({ url: `${srv.url}/status?s=${status}` }), makeDelivery())).toMatchObject({ ok: false, retryable: false });
    }
  });

  it('a templated header HTTP cannot carry (a curly quote, an emoji) fails at once, naming the header and not its value', async () => {
    const before = srv.requests.length;
    for (const title of ['It\u2019s done', 'ship it \u{1F680}']) {
      const r = await webhookActor.deliver(
        makeCtx({ url: `${srv.url}/ok`, headers: { 'x-title': '{{payload.title}}', authorization: 'Bearer tok-secret' } }),
        makeDelivery({ event: makeEvent({ payload: { title } }) }),
      );
      expect(r).toMatchObject({ ok: false, retryable: false });
      if (!r.ok) {
        expect(r.error).toMatch(/^header x-title cannot be sent: its value has the character U\+(2019|1F680) at position \d+/);
        expect(r.error).not.toContain('tok-secret');
      }
    }
    // latin-1 still goes (node sends it as bytes)
    const ok = await webhookActor.deliver(makeCtx({ url: `${srv.url}/ok`, headers: { 'x-title': '{{payload.title}}' } }), makeDelivery({ event: makeEvent({ payload: { title: 'caf\u00e9' } }) }));
    expect(ok).toEqual({ ok: true });
    expect(srv.requests.length).toBe(before + 1);
  });

  it('times out (config.timeout) and reports network errors as retryable', async () => {
    const slow = await webhookActor.deliver(makeCtx({ url: `${srv.url}/slow`, timeout: '200ms' }), makeDelivery());
    expect(slow).toEqual({ ok: false, retryable: true, error: 'timed out after 200ms' });
    const viaReq = await webhookActor.deliver(makeCtx({ url: `${srv.url}/slow` }), makeDelivery({ timeoutMs: 150 }));
    expect(viaReq).toEqual({ ok: false, retryable: true, error: 'timed out after 150ms' });
    // a port nothing listens on: take a server's port, then close it
    const gone = await startServer(() => {});
    await gone.close();
    const refused = await webhookActor.deliver(makeCtx({ url: `${gone.url}/x` }), makeDelivery());
    expect(refused).toMatchObject({ ok: false, retryable: true, error: expect.stringMatching(/^request failed: .*ECONNREFUSED/) });
  });

  it('an aborted delivery (executor stopping) is retryable', async () => {
    const ac = new AbortController();
    const p = webhookActor.deliver(makeCtx({ url: `${srv.url}/slow` }), makeDelivery({ signal: ac.signal }));
    setTimeout(() => ac.abort(), 50);
    expect(await p).toEqual({ ok: false, retryable: true, error: 'delivery aborted (executor stopping)' });
  });

  it('renders {{path}} in the url', async () => {
    await webhookActor.deliver(makeCtx({ url: `${srv.url}/ok?pr={{payload.pr_number}}` }), makeDelivery({ event: makeEvent() }));
    expect(last().url).toBe('/ok?pr=42');
  });

  it('reuses connections (keep-alive), also after large error bodies', async () => {
    const big = await startServer((rec, res) => {
      res.statusCode = rec.url === '/big' ? 500 : 200;
      res.end(rec.url === '/big' ? 'e'.repeat(200_000) : '');
    });
    let connections = 0;
    big.server.on('connection', () => connections++);
    for (let i = 0; i < 10; i++) {
      const r = await webhookActor.deliver(makeCtx({ url: `${big.url}/${i % 2 ? 'big' : 'ok'}` }), makeDelivery());
      if (i % 2) expect(r).toMatchObject({ ok: false, retryable: true, error: expect.stringMatching(/^HTTP 500 Internal Server Error: e{300}…$/) });
      else expect(r).toEqual({ ok: true });
    }
    expect(connections).toBe(1);
    await big.close();
  });

  describe('hole 9: event values cannot change the request around them', () => {
    const attack = (payload: Record<string, unknown>) => makeDelivery({ event: makeEvent({ payload }) });

    it('a value in the path stays one segment: ../../admin/delete?x= does not reach /admin with the token', async () => {
      const before = srv.requests.length;
      const ctx = makeCtx({ url: `${srv.url}/ok/repos/{{payload.repo}}/issues?state={{payload.state}}`, auth: { bearer: 'tok-admin' } });
      expect(await webhookActor.deliver(ctx, attack({ repo: '../../admin/delete?x=', state: 'open&admin=1#x' }))).toEqual({ ok: true });
      expect(srv.requests.length).toBe(before + 1);
      expect(last().url).toBe('/ok/repos/..%2F..%2Fadmin%2Fdelete%3Fx%3D/issues?state=open%26admin%3D1%23x');
    });

    it('a value that would make a path segment . or .. fails at once, and nothing is sent', async () => {
      const before = srv.requests.length;
      for (const repo of ['..', '.', '%2e%2e']) {
        const r = await webhookActor.deliver(makeCtx({ url: `${srv.url}/ok/repos/{{payload.repo}}/issues`, auth: { bearer: 'tok-admin' } }), attack({ repo }));
        if (repo === '%2e%2e') expect(r).toEqual({ ok: true }); // the % is encoded: the segment is the text "%2e%2e"
        else expect(r).toEqual({ ok: false, retryable: false, error: `url: {{payload.repo}} makes the path segment "${repo}", which would move the request to another path` });
      }
      expect(srv.requests.length).toBe(before + 1);
      expect(last().url).toBe('/ok/repos/%252e%252e/issues');
    });

    it('a value cannot choose the host: a templated host takes names only, a whole-URL template is refused', async () => {
      const port = new URL(srv.url).port;
      const fine = await webhookActor.deliver(makeCtx({ url: `http://{{payload.host}}:${port}/ok` }), attack({ host: '127.0.0.1' }));
      expect(fine).toEqual({ ok: true });
      for (const [url, host] of [
        [`http://{{payload.host}}:${port}/ok`, 'evil.example@127.0.0.1'],
        [`http://{{payload.host}}/ok`, `127.0.0.1:${port}/ok#`],
        ['{{payload.host}}', `${srv.url}/admin`],
      ]) {
        const r = await webhookActor.deliver(makeCtx({ url, auth: { bearer: 'tok-admin' } }), attack({ host }));
        expect(r).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('{{payload.host}} is in the scheme or host of the URL') });
      }
      expect(srv.requests.some((q) => q.url.startsWith('/admin'))).toBe(false);
    });

    it('a JSON body written as text keeps each value inside its string, or as one JSON value', async () => {
      const ctx = makeCtx({ url: `${srv.url}/ok`, body: '{"channel": "#eng", "text": "PR: {{payload.title}}", "n": {{payload.n}}, "labels": {{payload.labels}}, "gone": {{payload.none}}}' });
      const title = 'x", "channel": "#admins';
      expect(await webhookActor.deliver(ctx, attack({ title, n: '1, "channel": "#admins"', labels: ['a', 'b'] }))).toEqual({ ok: true });
      expect(JSON.parse(last().body.toString())).toEqual({ channel: '#eng', text: `PR: ${title}`, n: '1, "channel": "#admins"', labels: ['a', 'b'], gone: null });
      // a backslash ending the value cannot escape the closing quote either
      expect(await webhookActor.deliver(ctx, attack({ title: 'tail\\', n: 3, labels: [] }))).toEqual({ ok: true });
      expect(JSON.parse(last().body.toString())).toMatchObject({ channel: '#eng', text: 'PR: tail\\', n: 3 });
    });

    it('a form body encodes every value; a text/plain body is sent as written', async () => {
      const form = makeCtx({ url: `${srv.url}/ok`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'text={{payload.title}}&channel=eng' });
      expect(await webhookActor.deliver(form, attack({ title: 'a&channel=admins' }))).toEqual({ ok: true });
      expect(Object.fromEntries(new URLSearchParams(last().body.toString()))).toEqual({ text: 'a&channel=admins', channel: 'eng' });
      const text = makeCtx({ url: `${srv.url}/ok`, headers: { 'content-type': 'text/plain' }, body: 'PR {{payload.title}}' });
      expect(await webhookActor.deliver(text, attack({ title: '"quoted"' }))).toEqual({ ok: true });
      expect(last().body.toString()).toBe('PR "quoted"');
    });

    it('CR/LF or another control character in a templated header fails at once: no header is injected', async () => {
      const before = srv.requests.length;
      for (const title of ['a\r\nx-injected: 1', 'a\nb', 'bell\u0007']) {
        const r = await webhookActor.deliver(makeCtx({ url: `${srv.url}/ok`, headers: { 'x-title': '{{payload.title}}' } }), attack({ title }));
        expect(r).toMatchObject({ ok: false, retryable: false, error: expect.stringMatching(/^header x-title cannot be sent: its value has a control character at position \d+/) });
      }
      expect(srv.requests.length).toBe(before);
    });
  });

  it('a url template that renders to nothing usable is a permanent failure without echoing the url', async () => {
    const r = await webhookActor.deliver(makeCtx({ url: '{{payload.missing}}' }), makeDelivery());
    expect(r).toEqual({ ok: false, retryable: false, error: 'url does not render to an http(s) URL' });
  });

  it('parseRetryAfter', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT'))).toBe(60_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('validate: url and timeout', () => {
    expect(webhookActor.validate!({ url: 'ftp://x' })).toEqual([{ path: 'url', message: 'url must be an http(s) URL, got "ftp://x"' }]);
    expect(webhookActor.validate!({ url: 'not a url' })).toEqual([{ path: 'url', message: 'url must be an http(s) URL, got "not a url"' }]);
    expect(webhookActor.validate!({ url: 'http://127.0.0.1:18789', timeout: 'forever' })).toEqual([
      { path: 'timeout', message: expect.stringContaining('invalid duration "forever"') },
    ]);
    expect(webhookActor.validate!({ url: 'https://x.example/{{payload.id}}', timeout: '30s' })).toEqual([]);
    // sensitive fields are marked in the schema (engine/secrets reads the markers)
    const props = webhookActor.configSchema.properties as Record<string, any>;
    expect(props.auth.properties.bearer.sensitive).toBe(true);
    expect(props.secret.sensitive).toBe(true);
  });
});
