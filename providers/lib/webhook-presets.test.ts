import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { handleWebhookRequest } from '../sources/webhook.js';
import { makeCtx } from './test-helpers/context.js';
import type { WebhookRequest } from '../types.js';

const SECRET = 'vendor-secret';
const now = new Date('2026-03-01T12:00:00Z');
const unix = Math.floor(now.getTime() / 1000);
const hmac = (alg: string, key: string, data: string) => createHmac(alg, key).update(data);

function req(body: unknown, headers: Record<string, string>, path = '/webhook/in'): WebhookRequest {
  return { method: 'POST', path, headers: { 'content-type': 'application/json', ...headers }, rawBody: Buffer.from(JSON.stringify(body)) };
}
const run = (signature: string, r: WebhookRequest, extra: Record<string, unknown> = {}) => handleWebhookRequest(makeCtx({ secret: SECRET, signature, ...extra }), r, now);

// one signed request per vendor, built from that vendor's documented scheme
const cases: Array<[string, unknown, (raw: string) => Record<string, string>, string, string | undefined]> = [
  ['stripe', { id: 'evt_1', type: 'invoice.paid', data: {} }, (raw) => ({ 'stripe-signature': `t=${unix},v1=${hmac('sha256', SECRET, `${unix}.${raw}`).digest('hex')}` }), 'invoice.paid', 'stripe:evt_1'],
  ['slack', { type: 'event_callback', event_id: 'Ev1', event: { type: 'app_mention' } }, (raw) => ({ 'x-slack-request-timestamp': String(unix), 'x-slack-signature': `v0=${hmac('sha256', SECRET, `v0:${unix}:${raw}`).digest('hex')}` }), 'app_mention', 'slack:Ev1'],
  ['zendesk', { id: 'z1', type: 'zen:event-type:ticket.created', detail: {} }, (raw) => ({ 'x-zendesk-webhook-signature-timestamp': now.toISOString(), 'x-zendesk-webhook-signature': hmac('sha256', SECRET, now.toISOString() + raw).digest('base64') }), 'ticket.created', 'zendesk:z1'],
  ['pagerduty', { event: { id: 'pd1', event_type: 'incident.resolved', agent: { summary: 'Ada' } } }, (raw) => ({ 'x-pagerduty-signature': `v1=${'ab'.repeat(32)},v1=${hmac('sha256', SECRET, raw).digest('hex')}` }), 'incident.resolved', 'pagerduty:pd1'],
  ['intercom', { id: 'notif_1', topic: 'conversation.user.created' }, (raw) => ({ 'x-hub-signature': `sha1=${hmac('sha1', SECRET, raw).digest('hex')}` }), 'conversation.user.created', 'intercom:notif_1'],
  ['docusign', { event: 'envelope-completed', generatedDateTime: '2026-03-01T11:59:00Z', data: { envelopeId: 'env-9' } }, (raw) => ({ 'x-docusign-signature-1': hmac('sha256', 'other', raw).digest('base64'), 'x-docusign-signature-2': hmac('sha256', SECRET, raw).digest('base64') }), 'envelope-completed', 'docusign:env-9:envelope-completed:2026-03-01T11:59:00Z'],
  ['shopify', { id: 450789469, total_price: '10.00' }, (raw) => ({ 'x-shopify-topic': 'orders/create', 'x-shopify-hmac-sha256': hmac('sha256', SECRET, raw).digest('base64') }), 'orders/create', undefined],
];

describe('webhook source vendor presets', () => {
  it.each(cases)('%s: a signed delivery is accepted with its name and signed id; a tampered one is refused', (preset, body, sign, name, key) => {
    const raw = JSON.stringify(body);
    const ok = run(preset, req(body, sign(raw)));
    expect(ok.ok).toBe(true);
    const ev = (ok as { events: any[] }).events[0];
    expect(ev.provenance).toMatchObject({ platform: preset, platform_event: name });
    expect(ev.dedupe_key).toBe(key);
    const tampered: WebhookRequest = { ...req(body, sign(raw)), rawBody: Buffer.from(raw.replace('}', ',"x":1}')) };
    expect(run(preset, tampered)).toMatchObject({ ok: false, status: 401 });
    expect(run(preset, req(body, {}))).toMatchObject({ ok: false, status: 401 });
  });

  it('timestamped schemes refuse a replay outside the tolerance', () => {
    const body = { id: 'evt_2', type: 'charge.refunded' };
    const raw = JSON.stringify(body);
    const old = unix - 600;
    const stale = run('stripe', req(body, { 'stripe-signature': `t=${old},v1=${hmac('sha256', SECRET, `${old}.${raw}`).digest('hex')}` }));
    expect(stale).toEqual({ ok: false, status: 401, error: 'signature timestamp outside the 300s tolerance (replayed or clock skew)' });
    expect(run('stripe', req(body, { 'stripe-signature': `t=${old},v1=${hmac('sha256', SECRET, `${old}.${raw}`).digest('hex')}` }), { tolerance: 900 }).ok).toBe(true);
  });

  it('hubspot signs method, public URL, body and timestamp, and sends an array: one event per element', () => {
    const body = [
      { eventId: 11, subscriptionType: 'deal.propertyChange', objectId: 5 },
      { eventId: 12, subscriptionType: 'contact.creation', objectId: 6 },
    ];
    const raw = JSON.stringify(body);
    const ts = String(now.getTime());
    const sig = hmac('sha256', SECRET, `POST${'https://hooks.acme.test'}/webhook/in${raw}${ts}`).digest('base64');
    const r = run('hubspot', req(body, { 'x-hubspot-signature-v3': sig, 'x-hubspot-request-timestamp': ts }), { public_url: 'https://hooks.acme.test/' });
    expect(r.ok).toBe(true);
    expect((r as { events: any[] }).events.map((e) => [e.provenance.platform_event, e.dedupe_key])).toEqual([
      ['deal.propertyChange', 'hubspot:11'],
      ['contact.creation', 'hubspot:12'],
    ]);
    expect(run('hubspot', req(body, { 'x-hubspot-signature-v3': sig, 'x-hubspot-request-timestamp': ts }), { public_url: 'https://evil.test' })).toMatchObject({ ok: false, status: 401 });
  });
});
