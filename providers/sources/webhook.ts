// Source `webhook`: receives JSON over HTTP at POST /webhook/<source-id> (or config.path).
// The executor's ingress enforces the body limit (webhookMaxBody, read for every webhook-capable
// source when the run graph is built) and calls handleWebhook.
//
// Signature modes (`signature`, default auto), checked only when a secret is configured:
//   github       X-Hub-Signature-256: sha256=<hex HMAC of the raw body>
//   standard     Standard Webhooks webhook-id / webhook-timestamp / webhook-signature, 5-minute
//                replay window both ways, several `v1,<b64>` signatures allowed
//   hmac-sha256  plain HMAC of the raw body in `signature_header` (default x-signature), as hex,
//                sha256=<hex> or base64
//   auto         whichever of those headers is present; none present -> 401
//   stripe, slack, zendesk, pagerduty, intercom, docusign, shopify, hubspot, twilio
//                a vendor's own scheme (lib/webhook-presets.ts): its signature and timestamp
//                headers (`tolerance` seconds, default 300), and its event name and id taken from
//                the signed body (hubspot: one event per element of its array body; twilio:
//                form-encoded bodies, the parameters are the payload)
// `secret` (alias `hmac_secret`) may be a list: any listed secret may match (rotation).
//
// Normalization: type = config.event_type (default resource.changed), payload = body.
// provenance.platform_event = body.type when it is a string; for GitHub deliveries
// (X-GitHub-Event header) it is `<event>.<action>` (e.g. pull_request_review.submitted), or just
// `<event>` when the body has no action. dedupe_key (providers/lib/webhook-identity.ts): the signed
// webhook-id (standard), the signed body digest (github, hmac-sha256), else X-GitHub-Delivery /
// webhook-id / Idempotency-Key; `dedupe_field` names a body field to use instead.

import { getPath, splitPath } from '../lib/path.js';
import type { EmittedEvent, ProviderContext, SourceProvider, WebhookRequest, WebhookResult } from '../types.js';
import { parseSize, sizeIssue } from '../lib/size.js';
import { verifyGithub, verifyHmac, verifyStandard, type VerifyResult } from '../lib/signatures.js';
import { BLANK_SECRET_ERROR, configuredSecrets } from '../lib/blank-secret.js';
import { isFormContentType, parseForm, PRESETS, presetEvents, verifyPreset, type Preset } from '../lib/webhook-presets.js';
import { bodyFieldKey, requestIdentity, type Proof } from '../lib/webhook-identity.js';
import { CONTRACT_VERSION } from '../contract.js';

/** 1 MB: generic senders post small JSON; a source that needs more says so in `max_body` */
export const DEFAULT_MAX_BODY = 1024 * 1024;
const SIGNATURE_MODES = ['auto', 'github', 'standard', 'hmac-sha256', ...PRESETS] as const;
type SignatureMode = (typeof SIGNATURE_MODES)[number];
const isPreset = (mode: unknown): mode is Preset => (PRESETS as readonly unknown[]).includes(mode);
const DEFAULT_HMAC_HEADER = 'x-signature';

const secretSchema = {
  oneOf: [
    { type: 'string', minLength: 1 },
    { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
  ],
};

/** Effective body limit in bytes for a webhook source config (default 1 MB). */
export function webhookMaxBody(config: Record<string, unknown>, fallback: number = DEFAULT_MAX_BODY): number {
  return config.max_body === undefined || config.max_body === null ? fallback : parseSize(config.max_body as string);
}

/** Effective ingress path for a webhook source (default /webhook/<id>). */
export function webhookPath(sourceId: string, config: Record<string, unknown>): string {
  return typeof config.path === 'string' && config.path ? config.path : `/webhook/${sourceId}`;
}

/** Active secrets of a webhook source config: `secret` and `hmac_secret`, each a string or a list. */
export function webhookSecrets(config: Record<string, unknown>): string[] {
  return configuredSecrets(config, ['secret', 'hmac_secret']).values;
}

/** Verifies the request and says what it proved: a signed id (Standard Webhooks) or a signed body. */
function checkSignature(config: Record<string, unknown>, secrets: string[], req: WebhookRequest, now: Date): VerifyResult & { proof?: Proof } {
  const v = verify(config, secrets, req, now);
  if (!v.ok) return v;
  return { ok: true, proof: v.mode === 'standard' ? { kind: 'signed-id', id: req.headers['webhook-id']! } : { kind: 'signed-body' } };
}

function verify(config: Record<string, unknown>, secrets: string[], req: WebhookRequest, now: Date): VerifyResult & { mode?: SignatureMode } {
  const h = req.headers;
  const hmacHeader = (typeof config.signature_header === 'string' ? config.signature_header : DEFAULT_HMAC_HEADER).toLowerCase();
  let mode = (config.signature ?? 'auto') as SignatureMode;
  if (mode === 'auto') {
    if (h['x-hub-signature-256'] !== undefined) mode = 'github';
    else if (h['webhook-signature'] !== undefined) mode = 'standard';
    else if (h[hmacHeader] !== undefined) mode = 'hmac-sha256';
    else return { ok: false, error: `missing signature: expected X-Hub-Signature-256, webhook-signature or ${hmacHeader}` };
  }
  switch (mode) {
    case 'github':
      return { ...verifyGithub(secrets, h['x-hub-signature-256'], req.rawBody), mode };
    case 'standard':
      return {
        ...verifyStandard(secrets, { id: h['webhook-id'], timestamp: h['webhook-timestamp'], signature: h['webhook-signature'] }, req.rawBody, now),
        mode,
      };
    case 'hmac-sha256':
      return { ...verifyHmac(secrets, h[hmacHeader], req.rawBody, hmacHeader), mode };
    default:
      if (isPreset(mode)) return verifyPreset(mode, secrets, req, now, { tolerance: config.tolerance as number | undefined, publicUrl: config.public_url as string | undefined });
      return { ok: false, error: `unknown signature mode ${String(mode)}` };
  }
}

function isJsonContentType(ct: string): boolean {
  const base = ct.split(';', 1)[0]!.trim().toLowerCase();
  return base === 'application/json' || base.endsWith('+json');
}

/** Turns a verified request into the event it carries. */
export function normalizeWebhook(config: Record<string, unknown>, req: WebhookRequest, body: Record<string, unknown>, proof: Proof = { kind: 'unsigned' }): EmittedEvent {
  const h = req.headers;
  const provenance: EmittedEvent['provenance'] = { platform: typeof config.platform === 'string' ? config.platform : 'webhook' };
  const ghEvent = h['x-github-event'];
  if (ghEvent) {
    if (config.platform === undefined) provenance.platform = 'github';
    provenance.platform_event = typeof body.action === 'string' ? `${ghEvent}.${body.action}` : ghEvent;
    const sender = body.sender as { login?: unknown; type?: unknown } | undefined;
    if (sender && typeof sender.login === 'string') {
      provenance.author = sender.login;
      provenance.author_type = sender.type === 'Bot' || sender.login.endsWith('[bot]') ? 'bot' : 'team_member';
    }
  } else {
    // OrgLoop: `event_type_field` (a dotted path, default `type`) names the event; `unknown` when absent
    const field = typeof config.event_type_field === 'string' && config.event_type_field ? config.event_type_field : 'type';
    const named = getPath(body, splitPath(field));
    provenance.platform_event = typeof named === 'string' && named !== '' ? named : 'unknown';
  }
  const dedupe = typeof config.dedupe_field === 'string' && config.dedupe_field ? bodyFieldKey(body, config.dedupe_field) : requestIdentity(proof, req);
  const ev: EmittedEvent = {
    type: typeof config.event_type === 'string' ? config.event_type : 'resource.changed',
    provenance,
    payload: body,
  };
  if (dedupe) ev.dedupe_key = dedupe;
  return ev;
}

export function handleWebhookRequest(ctx: ProviderContext, req: WebhookRequest, now: Date = new Date()): WebhookResult {
  const config = ctx.config;
  const { values: secrets, blank } = configuredSecrets(config, ['secret', 'hmac_secret']);
  if (blank) return { ok: false, status: 401, error: BLANK_SECRET_ERROR };
  let proof: Proof = { kind: 'unsigned' };
  if (secrets.length > 0) {
    const v = checkSignature(config, secrets, req, now);
    if (!v.ok) return { ok: false, status: 401, error: v.error };
    proof = v.proof!;
  }
  const ct = req.headers['content-type'];
  // Twilio posts forms: its parameters are the payload (the signature covered them)
  if (config.signature === 'twilio' && secrets.length > 0 && isFormContentType(ct)) {
    return { ok: true, events: presetEvents('twilio', parseForm(req.rawBody), req, typeof config.event_type === 'string' ? config.event_type : 'resource.changed', typeof config.platform === 'string' ? config.platform : undefined) };
  }
  if (ct !== undefined && ct !== '' && !isJsonContentType(ct)) {
    return { ok: false, status: 415, error: `unsupported content type ${JSON.stringify(ct)}: send application/json` };
  }
  let body: unknown;
  try {
    body = JSON.parse(req.rawBody.toString('utf8'));
  } catch (err) {
    return { ok: false, status: 400, error: `invalid JSON body: ${(err as Error).message}` };
  }
  if (isPreset(config.signature) && secrets.length > 0 && body !== null && typeof body === 'object') {
    const type = typeof config.event_type === 'string' ? config.event_type : 'resource.changed';
    return { ok: true, events: presetEvents(config.signature, body, req, type, typeof config.platform === 'string' ? config.platform : undefined) };
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, status: 400, error: 'JSON body must be an object' };
  }
  return { ok: true, events: [normalizeWebhook(config, req, body as Record<string, unknown>, proof)] };
}

export const webhookSource: SourceProvider = {
  kind: 'source',
  name: 'webhook',
  // declared as a package must, so the SDK harness runs it as it runs third-party providers
  contractVersion: CONTRACT_VERSION,
  description: 'Receives JSON events over HTTP (POST /webhook/<source-id>), with optional signature checks.',
  configSchema: {
    type: 'object',
    additionalProperties: true,
    properties: {
      path: { type: 'string', pattern: '^/', description: 'ingress path (default /webhook/<source-id>)' },
      secret: { ...secretSchema, sensitive: true, description: 'shared secret(s); any listed secret may match (rotation)' },
      hmac_secret: { ...secretSchema, sensitive: true, description: 'alias of secret' },
      signature: { type: 'string', enum: [...SIGNATURE_MODES], default: 'auto' },
      signature_header: { type: 'string', minLength: 1, description: 'header carrying a plain HMAC (default x-signature)' },
      max_body: { type: ['string', 'integer'], description: 'body size limit, e.g. 5MB (default 1MB)' },
      event_type: { type: 'string', minLength: 1, default: 'resource.changed' },
      event_type_field: { type: 'string', minLength: 1, description: 'dotted path of the body field naming the event (provenance.platform_event; default type)' },
      buffer_dir: { type: 'string', description: 'accepted for compatibility; events are stored in the state store' },
      max_buffer_size: { type: 'string', description: 'accepted for compatibility (see buffer_dir)' },
      platform: { type: 'string', minLength: 1, description: 'provenance.platform (default webhook)' },
      tolerance: { type: 'integer', minimum: 1, description: 'vendor presets: accepted signature age in seconds (default 300)' },
      public_url: { type: 'string', description: 'hubspot and twilio presets: the public base URL the vendor calls (they sign the full URL)' },
      dedupe_field: { type: 'string', minLength: 1, description: 'body field (dotted path) that identifies a delivery; default: the signed id or body, else the delivery id header' },
    },
  },
  replaceOn: ['path'],
  defaultMaxBody: DEFAULT_MAX_BODY,
  validate(config) {
    const issues: Array<{ path: string; message: string }> = [];
    if (config.secret !== undefined && config.hmac_secret !== undefined) {
      issues.push({ path: 'hmac_secret', message: 'hmac_secret is an alias of secret: set only one of them' });
    }
    const mode = config.signature;
    if (mode !== undefined && mode !== 'auto' && webhookSecrets(config).length === 0) {
      issues.push({ path: 'signature', message: `signature: ${String(mode)} needs a secret` });
    }
    if ((mode === 'hubspot' || mode === 'twilio') && typeof config.public_url !== 'string') {
      issues.push({ path: 'public_url', message: `signature: ${mode} needs public_url, the base URL ${mode === 'twilio' ? 'Twilio' : 'HubSpot'} calls (it signs the full URL)` });
    }
    const size = sizeIssue(config, 'max_body');
    if (size) issues.push(size);
    return issues;
  },
  handleWebhook(ctx, req) {
    return handleWebhookRequest(ctx, req);
  },
};
