// Twilio's webhook signature (docs: "Webhooks security"): X-Twilio-Signature is the base64
// HMAC-SHA1, keyed with the account's auth token, of the full URL Twilio called followed by every
// POST parameter's name and value, sorted by name. Each signature below is computed here, by
// hand from those rules, not with the code under test.

import { createHash, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleWebhookRequest, webhookSource } from '../sources/webhook.js';
import { startHarness, type ProviderHarness } from '../../sdk/harness.js';
import { makeCtx } from './test-helpers/context.js';
import type { WebhookRequest } from '../types.js';

const TOKEN = 'twilio-auth-token-0123456789abcdef';
const PUBLIC = 'https://hooks.acme.test';
const FORM = 'application/x-www-form-urlencoded';
const sign = (data: string, key = TOKEN) => createHmac('sha1', key).update(data, 'utf8').digest('base64');

// an inbound SMS as Twilio posts it (values invented for the test)
const sms: Array<[string, string]> = [
  ['ToCountry', 'US'],
  ['SmsMessageSid', 'SM11aa22bb33cc44dd55ee66ff77aa88bb'],
  ['NumMedia', '0'],
  ['SmsSid', 'SM11aa22bb33cc44dd55ee66ff77aa88bb'],
  ['SmsStatus', 'received'],
  ['Body', 'Is the build green? 100% & "done"'],
  ['To', '+15005550006'],
  ['MessageSid', 'SM11aa22bb33cc44dd55ee66ff77aa88bb'],
  ['AccountSid', 'AC00000000000000000000000000000001'],
  ['From', '+14155550100'],
  ['ApiVersion', '2010-04-01'],
];
const formBody = (pairs: Array<[string, string]>) => new URLSearchParams(pairs).toString();
/** url + name/value pairs sorted by name, written out by hand for these fixtures */
const signedString = (url: string, pairs: Array<[string, string]>) => url + [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => k + v).join('');

function req(target: string, body: string, headers: Record<string, string>): WebhookRequest {
  return { method: 'POST', path: target.split('?')[0]!, target, headers: { 'content-type': FORM, ...headers }, rawBody: Buffer.from(body) };
}
const run = (r: WebhookRequest, extra: Record<string, unknown> = {}) => handleWebhookRequest(makeCtx({ secret: TOKEN, signature: 'twilio', public_url: PUBLIC, ...extra }), r);

describe('webhook source: signature twilio', () => {
  const target = '/webhook/sms';
  const good = sign(signedString(PUBLIC + target, sms));

  it('accepts a form-encoded SMS signed over the URL and the sorted parameters; the parameters are the payload', () => {
    const r = run(req(target, formBody(sms), { 'x-twilio-signature': good }));
    expect(r.ok).toBe(true);
    const [ev] = (r as { events: any[] }).events;
    expect(ev.provenance).toMatchObject({ platform: 'twilio', platform_event: 'message.received', author: '+14155550100' });
    expect(ev.payload.Body).toBe('Is the build green? 100% & "done"');
    expect(ev.payload.MessageSid).toBe('SM11aa22bb33cc44dd55ee66ff77aa88bb');
    expect(ev.dedupe_key).toBe('twilio:SM11aa22bb33cc44dd55ee66ff77aa88bb:received');
  });

  it('refuses a forged or tampered request: wrong token, changed parameter, another URL, no header', () => {
    expect(run(req(target, formBody(sms), { 'x-twilio-signature': sign(signedString(PUBLIC + target, sms), 'not-the-token') }))).toEqual({ ok: false, status: 401, error: 'signature does not match' });
    const tampered = sms.map(([k, v]): [string, string] => (k === 'Body' ? [k, 'wire $5000 to ...'] : [k, v]));
    expect(run(req(target, formBody(tampered), { 'x-twilio-signature': good }))).toMatchObject({ ok: false, status: 401 });
    const added: Array<[string, string]> = [...sms, ['Extra', '1']];
    expect(run(req(target, formBody(added), { 'x-twilio-signature': good }))).toMatchObject({ ok: false, status: 401 });
    expect(run(req('/webhook/other', formBody(sms), { 'x-twilio-signature': good }))).toMatchObject({ ok: false, status: 401 });
    expect(run(req(target, formBody(sms), { 'x-twilio-signature': good }), { public_url: 'https://evil.test' })).toMatchObject({ ok: false, status: 401 });
    expect(run(req(target, formBody(sms), {}))).toEqual({ ok: false, status: 401, error: 'missing X-Twilio-Signature header' });
  });

  it('signs the query string as received, and accepts the URL with or without the default port', () => {
    const t = '/webhook/sms?tenant=acme&kind=status';
    const status: Array<[string, string]> = [
      ['MessageSid', 'SM99'],
      ['MessageStatus', 'delivered'],
      ['AccountSid', 'AC1'],
    ];
    const r = run(req(t, formBody(status), { 'x-twilio-signature': sign(signedString(PUBLIC + t, status)) }));
    expect(r.ok).toBe(true);
    expect((r as { events: any[] }).events[0].provenance.platform_event).toBe('message.delivered');
    expect((r as { events: any[] }).events[0].dedupe_key).toBe('twilio:SM99:delivered');
    const withPort = sign(signedString(`https://hooks.acme.test:443${t}`, status));
    expect(run(req(t, formBody(status), { 'x-twilio-signature': withPort })).ok).toBe(true);
    // the query is part of what was signed
    expect(run(req('/webhook/sms?tenant=evil&kind=status', formBody(status), { 'x-twilio-signature': sign(signedString(PUBLIC + t, status)) }))).toMatchObject({ ok: false, status: 401 });
  });

  it('a repeated parameter is signed as each of its values after its name, and arrives as a list', () => {
    const pairs: Array<[string, string]> = [
      ['CallSid', 'CA7'],
      ['CallStatus', 'completed'],
      ['Digits', '2'],
      ['Digits', '1'],
    ];
    // sorted by name, then the repeated name's values in order: CallSidCA7 CallStatuscompleted Digits1 Digits2
    const data = `${PUBLIC}/webhook/sms` + 'CallSidCA7' + 'CallStatuscompleted' + 'Digits1' + 'Digits2';
    const r = run(req('/webhook/sms', formBody(pairs), { 'x-twilio-signature': sign(data) }));
    expect(r.ok).toBe(true);
    const [ev] = (r as { events: any[] }).events;
    expect(ev.provenance.platform_event).toBe('call.completed');
    expect(ev.payload.Digits).toEqual(['2', '1']);
  });

  it('a JSON body is signed through the bodySHA256 URL parameter', () => {
    const body = JSON.stringify({ type: 'com.twilio.messaging.message.delivered', id: 'EZ1' });
    const hash = createHash('sha256').update(body).digest('hex');
    const t = `/webhook/sms?bodySHA256=${hash}`;
    const ok = run({ ...req(t, body, { 'x-twilio-signature': sign(PUBLIC + t) }), headers: { 'content-type': 'application/json', 'x-twilio-signature': sign(PUBLIC + t) } });
    expect(ok.ok).toBe(true);
    expect((ok as { events: any[] }).events[0].provenance.platform_event).toBe('com.twilio.messaging.message.delivered');
    const other = JSON.stringify({ type: 'com.twilio.messaging.message.delivered', id: 'EZ2' });
    expect(run({ ...req(t, other, {}), headers: { 'content-type': 'application/json', 'x-twilio-signature': sign(PUBLIC + t) } })).toEqual({
      ok: false,
      status: 401,
      error: 'body does not match the bodySHA256 the URL was signed with',
    });
  });

  it('validate asks for public_url with signature: twilio', () => {
    expect(webhookSource.validate!({ secret: 'x', signature: 'twilio' })).toEqual([{ path: 'public_url', message: 'signature: twilio needs public_url, the base URL Twilio calls (it signs the full URL)' }]);
  });
});

describe('webhook source: twilio through a real executor', () => {
  let h: ProviderHarness;
  beforeAll(async () => {
    h = await startHarness({ provider: webhookSource, config: { secret: '${TWILIO_AUTH_TOKEN}', signature: 'twilio', public_url: PUBLIC }, env: { TWILIO_AUTH_TOKEN: TOKEN } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('stores a signed form post once (Twilio retries the same callback), refuses a forged one with 401', async () => {
    const t = '/webhook/under-test?src=twilio';
    const sig = sign(signedString(PUBLIC + t, sms));
    const first = await h.webhook(formBody(sms), { 'content-type': FORM, 'x-twilio-signature': sig }, t);
    expect(first.status).toBeLessThan(300);
    const again = await h.webhook(formBody(sms), { 'content-type': FORM, 'x-twilio-signature': sig, 'i-twilio-idempotency-token': 'retry-2' }, t);
    expect(again.status).toBeLessThan(300);
    const forged = await h.webhook(formBody(sms), { 'content-type': FORM, 'x-twilio-signature': sign(signedString(PUBLIC + t, sms), 'guess') }, t);
    expect(forged.status).toBe(401);
    expect(forged.body).not.toContain(TOKEN);
    const [ev, ...rest] = await h.events(1);
    expect(rest).toHaveLength(0);
    expect(ev!.provenance).toMatchObject({ platform: 'twilio', platform_event: 'message.received' });
    expect(ev!.payload).toMatchObject({ From: '+14155550100', Body: 'Is the build green? 100% & "done"' });
  });
});
