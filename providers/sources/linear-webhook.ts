// Source `linear-webhook`: receives Linear webhooks at POST /webhook/<source-id>.
// Linear signs the raw body: `Linear-Signature` = hex HMAC-SHA256 with the webhook's signing
// secret. The body's `webhookTimestamp` (ms) must be within `max_age` (default 60 s) of now, so a
// captured request cannot be replayed later. `Linear-Delivery` is the dedupe key.
// Events use the same names as the polling `linear` source: issue.created | issue.updated |
// issue.state_changed | issue.removed, comment.created | comment.updated | comment.removed,
// and `<type>.<action>` (lower-case) for anything else.

import type { EmittedEvent, ProviderContext, SourceProvider, WebhookRequest, WebhookResult } from '../types.js';
import { durationIssue, durationOr } from '../lib/duration.js';
import { verifyHmac } from '../lib/signatures.js';
import { BLANK_SECRET_ERROR, configuredSecrets } from '../lib/blank-secret.js';
import { bodyDigestKey } from '../lib/webhook-identity.js';

const DEFAULT_MAX_AGE_MS = 60_000;
const ACTION: Record<string, string> = { create: 'created', update: 'updated', remove: 'removed' };


export function normalizeLinear(body: any): EmittedEvent {
  const type = String(body?.type ?? 'unknown').toLowerCase();
  const action = ACTION[body?.action] ?? String(body?.action ?? 'changed');
  const data = body?.data ?? {};
  let kind = `${type}.${action}`;
  if (type === 'issue' && action === 'updated' && body?.updatedFrom && 'stateId' in body.updatedFrom) kind = 'issue.state_changed';
  const actor = body?.actor;
  const author = actor?.name ?? data.creator?.name ?? data.user?.name ?? undefined;
  const base = {
    action: kind.split('.')[1],
    team: data.team?.key ?? null,
    url: body?.url ?? data.url ?? null,
    author: author ?? null,
  };
  const payload: Record<string, unknown> =
    type === 'issue'
      ? {
          ...base,
          id: data.id,
          issue_id: data.identifier ?? null,
          number: data.identifier ?? null,
          title: data.title ?? null,
          body: data.description ?? '',
          state: data.state?.name ?? null,
          assignee: data.assignee?.name ?? null,
          priority: data.priority ?? null,
          labels: Array.isArray(data.labels) ? data.labels.map((l: any) => l?.name) : [],
          updated_from: body?.updatedFrom ?? null,
        }
      : type === 'comment'
        ? {
            ...base,
            comment_id: data.id,
            issue_id: data.issue?.identifier ?? null,
            number: data.issue?.identifier ?? null,
            title: data.issue?.title ?? null,
            body: data.body ?? '',
          }
        : { ...base, data };
  return {
    type: 'resource.changed',
    provenance: {
      platform: 'linear',
      platform_event: kind,
      author,
      author_type: actor?.type === 'user' || !actor?.type ? 'user' : 'bot',
      url: base.url ?? undefined,
    },
    payload,
    time: body?.createdAt ?? undefined,
  };
}

function handleWebhook(ctx: ProviderContext, req: WebhookRequest, now: number = Date.now()): WebhookResult {
  if (req.method !== 'POST') return { ok: false, status: 405, error: 'only POST is accepted' };
  const { values: keys, blank } = configuredSecrets(ctx.config);
  if (blank) return { ok: false, status: 401, error: BLANK_SECRET_ERROR };
  if (keys.length > 0) {
    const v = verifyHmac(keys, req.headers['linear-signature'], req.rawBody, 'Linear-Signature');
    if (!v.ok) return { ok: false, status: 401, error: v.error };
  }
  let body: any;
  try {
    body = JSON.parse(req.rawBody.toString('utf8'));
  } catch {
    return { ok: false, status: 400, error: 'body is not JSON' };
  }
  if (keys.length > 0) {
    const ts = Number(body?.webhookTimestamp);
    if (!Number.isFinite(ts)) return { ok: false, status: 400, error: 'missing webhookTimestamp in body' };
    const maxAge = durationOr(ctx.config.max_age, DEFAULT_MAX_AGE_MS);
    if (Math.abs(now - ts) > maxAge) {
      return { ok: false, status: 401, error: `webhookTimestamp is ${Math.round((now - ts) / 1000)}s from now, outside the ${maxAge / 1000}s replay window` };
    }
  }
  const team = ctx.config.team;
  if (typeof team === 'string' && team && body?.data?.team?.key && body.data.team.key !== team && body.data.team.id !== team) {
    return { ok: true, events: [] };
  }
  const event = normalizeLinear(body);
  const delivery = req.headers['linear-delivery'];
  // Linear-Delivery is not signed; with a secret the signed body (which carries its own
  // webhookTimestamp) is the identity, so a replay inside max_age with a new header is a duplicate.
  event.dedupe_key =
    keys.length > 0 ? bodyDigestKey(req.rawBody) : (delivery ?? (body?.webhookId && body?.webhookTimestamp ? `${body.webhookId}:${body.webhookTimestamp}` : undefined));
  event.provenance = { ...event.provenance, delivery_id: delivery };
  return { ok: true, events: [event] };
}

export const linearWebhookSource: SourceProvider = {
  kind: 'source',
  name: 'linear-webhook',
  description: 'Receives Linear webhooks (Linear-Signature verified)',
  configSchema: {
    type: 'object',
    properties: {
      secret: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], sensitive: true, description: "the webhook's signing secret" },
      team: { type: 'string', description: 'only accept events of this team key (optional)' },
      max_age: { type: 'string', description: 'replay window for webhookTimestamp (default 60s)' },
      path: { type: 'string' },
      max_body: { type: ['string', 'integer'], description: 'body size limit (default 1MB)' },
    },
  },
  validate: (config) => {
    const i = durationIssue(config, 'max_age');
    return i ? [i] : [];
  },
  handleWebhook: (ctx, req) => handleWebhook(ctx, req),
};

export { handleWebhook as handleLinearWebhook };
export default linearWebhookSource;
