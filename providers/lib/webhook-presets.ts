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
//   twilio     X-Twilio-Signature: base64 HMAC-SHA1(auth token, url + each POST param's name and
//              value, sorted by name); `url` is `public_url` + the request path and query as
//              received. Bodies are form-encoded (the payload is the parameters); a JSON body is
//              signed through the URL's `bodySHA256` parameter (hex SHA-256 of the body) instead.
// (GitHub and Standard Webhooks are the source's own `github` and `standard` modes.)

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { EmittedEvent, WebhookRequest } from '../types.js';
import type { VerifyResult } from './signatures.js';
import { verifyPagerdutySignature } from './pagerduty-api.js';
import { verifyZendesk } from './zendesk-api.js';
import { bodyDigestKey } from './webhook-identity.js';

export const PRESETS = ['stripe', 'slack', 'zendesk', 'pagerduty', 'intercom', 'docusign', 'shopify', 'hubspot', 'twilio'] as const;
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
  /** public base URL the vendor calls (hubspot and twilio sign the full URL) */
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
    case 'twilio':
      return verifyTwilio(secrets, req, o.publicUrl);
  }
}

/** `application/x-www-form-urlencoded` (Twilio's bodies): a repeated name becomes a list. */
export function parseForm(raw: Buffer): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[k] = [prev, v];
  }
  return out;
}

export const isFormContentType = (ct: string | undefined): boolean => (ct ?? '').split(';', 1)[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded';

/** Twilio's signed string: the URL, then each parameter's name and value in name order (a
 * repeated name: its distinct values in order, each after the name, as Twilio's libraries do). */
export function twilioSignedString(url: string, params: Record<string, string | string[]>): string {
  let data = url;
  for (const key of Object.keys(params).sort()) {
    const v = params[key]!;
    for (const one of Array.isArray(v) ? [...new Set(v)].sort() : [v]) data += key + one;
  }
  return data;
}

/** The URL as Twilio may have signed it: as configured, and with the default port added or
 * removed (Twilio signs whichever form it called; its own validators try both). */
function twilioUrls(url: string): string[] {
  const out = [url];
  try {
    const u = new URL(url);
    const dflt = u.protocol === 'https:' ? '443' : u.protocol === 'http:' ? '80' : '';
    if (!dflt) return out;
    const rest = `${u.pathname}${u.search}`;
    const auth = u.username ? `${u.username}${u.password ? `:${u.password}` : ''}@` : '';
    out.push(u.port ? `${u.protocol}//${auth}${u.hostname}${rest}` : `${u.protocol}//${auth}${u.hostname}:${dflt}${rest}`);
  } catch {
    /* not a URL: only the literal form can match */
  }
  return out;
}

function verifyTwilio(secrets: string[], req: WebhookRequest, publicUrl: string | undefined): VerifyResult {
  const sig = req.headers['x-twilio-signature'];
  if (!sig) return missing('X-Twilio-Signature');
  if (!publicUrl) return { ok: false, error: 'signature: twilio needs public_url (Twilio signs the full URL it calls)' };
  const url = publicUrl.replace(/\/+$/, '') + (req.target ?? req.path);
  const given = Buffer.from(sig, 'base64');
  let params: Record<string, string | string[]> = {};
  const bodyHash = new URL(url, 'http://x').searchParams.get('bodySHA256');
  if (bodyHash !== null) {
    // a JSON (or other non-form) body: the URL is signed and carries the body's digest
    const actual = createHash('sha256').update(req.rawBody).digest('hex');
    if (!same(Buffer.from(actual), Buffer.from(bodyHash.toLowerCase()))) return { ok: false, error: 'body does not match the bodySHA256 the URL was signed with' };
  } else if (isFormContentType(req.headers['content-type'])) params = parseForm(req.rawBody);
  else if (req.rawBody.length > 0) return { ok: false, error: 'twilio: a body that is not form-encoded must be signed through a bodySHA256 URL parameter' };
  for (const u of twilioUrls(url)) {
    const data = twilioSignedString(u, params);
    if (secrets.some((s) => same(mac('sha1', s, data), given))) return { ok: true };
  }
  return bad;
}

/** Twilio's callbacks name no event: it is the resource and its status (message.delivered,
 * call.completed); an incoming message is message.received. JSON bodies may name it in `type`. */
function twilioEventName(b: Record<string, unknown>): string {
  const s = (k: string) => (typeof b[k] === 'string' && b[k] ? (b[k] as string) : undefined);
  if (s('MessageStatus')) return `message.${s('MessageStatus')}`;
  if (s('SmsStatus')) return `message.${s('SmsStatus')}`;
  if (s('MessageSid') || s('SmsSid')) return 'message.received';
  if (s('CallStatus')) return `call.${s('CallStatus')}`;
  if (s('type')) return s('type')!;
  return 'unknown';
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
    case 'twilio': {
      if (Array.isArray(b)) return b.map((e: any) => one(e, str(e?.type), str(e?.id))); // Event Streams: CloudEvents batches
      const obj = (b ?? {}) as Record<string, unknown>;
      const sid = str(obj.MessageSid) ?? str(obj.SmsSid) ?? str(obj.CallSid);
      const status = str(obj.MessageStatus) ?? str(obj.SmsStatus) ?? str(obj.CallStatus);
      const e = one(obj, twilioEventName(obj), sid && status ? `${sid}:${status}` : undefined, str(obj.From));
      // no sid and status to name the callback: the signed body is its identity
      if (!e.dedupe_key) e.dedupe_key = `twilio:${bodyDigestKey(req.rawBody)}`;
      return [e];
    }
  }
}
