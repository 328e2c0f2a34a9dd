// Vendor presets for the `webhook` source (`signature: stripe`, ...): how each vendor signs its
// webhooks, and what the signed body says about the event (its name, its id, its sender).
//
// Identity and freshness come from signed material only (DESIGN §10): the dedupe key is an id
// inside the signed body (never an unsigned header), and where the vendor signs a timestamp it
// must lie within `tolerance` (default 5 minutes) of now, both ways.
//
//   stripe     Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>[,v1=...]
//   slack      X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:<ts>:<body>")>, X-Slack-Request-Timestamp
//   zendesk    X-Zendesk-Webhook-Signature: base64 HMAC-SHA256(secret, "<timestamp><body>"), -Timestamp header
//   pagerduty  X-PagerDuty-Signature: v1=<hex HMAC-SHA256(secret, body)>[,v1=...] (v3 webhooks)
//   intercom   X-Hub-Signature: sha1=<hex HMAC-SHA1(client secret, body)>
//   docusign   X-DocuSign-Signature-1..n: base64 HMAC-SHA256(key, body) (Connect HMAC)
//   shopify    X-Shopify-Hmac-Sha256: base64 HMAC-SHA256(secret, body)
//   hubspot    X-HubSpot-Signature-v3: base64 HMAC-SHA256(secret, method + uri + body + timestamp),
//              X-HubSpot-Request-Timestamp (ms); `uri` is `public_url` + the request path
// (GitHub and Standard Webhooks are the source's own `github` and `standard` modes.)

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { EmittedEvent, WebhookRequest } from '../types.js';
import type { VerifyResult } from './signatures.js';
import { verifyPagerdutySignature } from './pagerduty-api.js';
import { verifyZendesk } from './zendesk-api.js';

export const PRESETS = ['stripe', 'slack', 'zendesk', 'pagerduty', 'intercom', 'docusign', 'shopify', 'hubspot'] as const;
export type Preset = (typeof PRESETS)[number];
export const DEFAULT_TOLERANCE_S = 300;

const mac = (alg: 'sha256' | 'sha1', key: string, ...parts: Array<string | Buffer>) => {
  const h = createHmac(alg, key);
  for (const p of parts) h.update(p);
  return h.digest();
};
const same = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);
const fresh = (tsSeconds: number, now: Date, tolerance: number): VerifyResult =>
  Number.isFinite(tsSeconds) && Math.abs(now.getTime() / 1000 - tsSeconds) <= tolerance ? { ok: true } : { ok: false, error: `signature timestamp outside the ${tolerance}s tolerance (replayed or clock skew)` };
const missing = (h: string): VerifyResult => ({ ok: false, error: `missing ${h} header` });
const bad: VerifyResult = { ok: false, error: 'signature does not match' };

export interface PresetOptions {
  tolerance?: number;
  /** public base URL the vendor calls (hubspot signs the full URI) */
  publicUrl?: string;
}

export function verifyPreset(preset: Preset, secrets: string[], req: WebhookRequest, now: Date, o: PresetOptions = {}): VerifyResult {
  const h = req.headers;
  const body = req.rawBody;
  const tolerance = o.tolerance ?? DEFAULT_TOLERANCE_S;
  switch (preset) {
    case 'stripe': {
      const header = h['stripe-signature'];
      if (!header) return missing('Stripe-Signature');
      const parts = header.split(',').map((p) => p.trim().split('='));
      const t = parts.find(([k]) => k === 't')?.[1];
      const sigs = parts.filter(([k]) => k === 'v1').map(([, v]) => Buffer.from(v ?? '', 'hex'));
      if (!t || sigs.length === 0) return { ok: false, error: 'malformed Stripe-Signature header (expected t=...,v1=...)' };
      const f = fresh(Number(t), now, tolerance);
      if (!f.ok) return f;
      return secrets.some((s) => sigs.some((g) => same(mac('sha256', s, `${t}.`, body), g))) ? { ok: true } : bad;
    }
    case 'slack': {
      const sig = h['x-slack-signature'];
      const ts = h['x-slack-request-timestamp'];
      if (!sig || !ts) return missing(!sig ? 'X-Slack-Signature' : 'X-Slack-Request-Timestamp');
      const f = fresh(Number(ts), now, tolerance);
      if (!f.ok) return f;
      const given = Buffer.from(sig.replace(/^v0=/, ''), 'hex');
      return secrets.some((s) => same(mac('sha256', s, `v0:${ts}:`, body), given)) ? { ok: true } : bad;
    }
    case 'zendesk': {
      const sig = h['x-zendesk-webhook-signature'];
      const ts = h['x-zendesk-webhook-signature-timestamp'];
      if (!sig || !ts) return missing(!sig ? 'X-Zendesk-Webhook-Signature' : 'X-Zendesk-Webhook-Signature-Timestamp');
      const f = fresh(Date.parse(ts) / 1000, now, tolerance);
      if (!f.ok) return f;
      return verifyZendesk(secrets, sig, ts, body) ? { ok: true } : bad;
    }
    case 'pagerduty':
      if (!h['x-pagerduty-signature']) return missing('X-PagerDuty-Signature');
      return verifyPagerdutySignature(secrets, h['x-pagerduty-signature'], body) ? { ok: true } : bad;
    case 'intercom': {
      const sig = h['x-hub-signature'];
      if (!sig) return missing('X-Hub-Signature');
      const given = Buffer.from(sig.replace(/^sha1=/, ''), 'hex');
      return secrets.some((s) => same(mac('sha1', s, body), given)) ? { ok: true } : bad;
    }
    case 'docusign': {
      const given = Object.keys(h)
        .filter((k) => /^x-docusign-signature-\d+$/.test(k))
        .map((k) => Buffer.from(h[k] ?? '', 'base64'));
      if (given.length === 0) return missing('X-DocuSign-Signature-1');
      return secrets.some((s) => given.some((g) => same(mac('sha256', s, body), g))) ? { ok: true } : bad;
    }
    case 'shopify': {
      const sig = h['x-shopify-hmac-sha256'];
      if (!sig) return missing('X-Shopify-Hmac-Sha256');
      const given = Buffer.from(sig, 'base64');
      return secrets.some((s) => same(mac('sha256', s, body), given)) ? { ok: true } : bad;
    }
    case 'hubspot': {
      const sig = h['x-hubspot-signature-v3'];
      const ts = h['x-hubspot-request-timestamp'];
      if (!sig || !ts) return missing(!sig ? 'X-HubSpot-Signature-v3' : 'X-HubSpot-Request-Timestamp');
      if (!o.publicUrl) return { ok: false, error: 'signature: hubspot needs public_url (HubSpot signs the full URL it calls)' };
      const f = fresh(Number(ts) / 1000, now, tolerance);
      if (!f.ok) return f;
      const uri = o.publicUrl.replace(/\/+$/, '') + req.path;
      const given = Buffer.from(sig, 'base64');
      return secrets.some((s) => same(mac('sha256', s, req.method, uri, body, ts), given)) ? { ok: true } : bad;
    }
  }
}

const str = (v: unknown) => (typeof v === 'string' && v ? v : typeof v === 'number' ? String(v) : undefined);

/** The events a verified body carries: name, id (dedupe, from the signed body) and sender per vendor. */
export function presetEvents(preset: Preset, body: unknown, req: WebhookRequest, eventType: string, platform?: string): EmittedEvent[] {
  const one = (b: any, name: string | undefined, id: string | undefined, author?: string): EmittedEvent => {
    const e: EmittedEvent = { type: eventType, provenance: { platform: platform ?? preset, platform_event: name }, payload: b && typeof b === 'object' && !Array.isArray(b) ? b : { items: b } };
    if (author) e.provenance!.author = author;
    if (id) e.dedupe_key = `${preset}:${id}`;
    return e;
  };
  const b = body as any;
  switch (preset) {
    case 'stripe':
      return [one(b, str(b?.type), str(b?.id))];
    case 'slack':
      return [one(b, str(b?.event?.type) ?? str(b?.type), str(b?.event_id))];
    case 'zendesk':
      return [one(b, str(b?.type)?.replace(/^zen:event-type:/, ''), str(b?.id))];
    case 'pagerduty':
      return [one(b, str(b?.event?.event_type), str(b?.event?.id), str(b?.event?.agent?.summary))];
    case 'intercom':
      return [one(b, str(b?.topic), str(b?.id))];
    case 'docusign': {
      const id = [str(b?.data?.envelopeId), str(b?.event), str(b?.generatedDateTime)].every(Boolean) ? `${b.data.envelopeId}:${b.event}:${b.generatedDateTime}` : undefined;
      return [one(b, str(b?.event), id)];
    }
    case 'shopify':
      // the topic header is not signed; the body is, and its id names the resource, not the delivery
      return [one(b, req.headers['x-shopify-topic'], undefined)];
    case 'hubspot':
      return (Array.isArray(b) ? b : [b]).map((e: any) => one(e, str(e?.subscriptionType), str(e?.eventId)));
  }
}
