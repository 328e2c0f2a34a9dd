// Source `linear-webhook`: receives Linear webhooks at POST /webhook/<source-id>.
// Linear signs the raw body: `Linear-Signature` = hex HMAC-SHA256 with the webhook's signing
// secret. The body's `webhookTimestamp` (ms) must be within `max_age` (default 60 s) of now, so a
// captured request cannot be replayed later. `Linear-Delivery` is the dedupe key.
// Events follow OrgLoop's linear-webhook (lib/linear-events.ts): issue.created, one event per
// change in an issue update (issue.state_changed, .assignee_changed, .priority_changed,
// .labels_changed, .delegate_changed), comment.created, and `<type>.<action>` (issue.remove,
// comment.update, project.create...) for anything else. `events: [Issue, Comment]` limits
// which resource types become events.

import type { EmittedEvent, ProviderContext, SourceProvider, WebhookRequest, WebhookResult } from '../types.js';
import { durationIssue, durationOr } from '../lib/duration.js';
import { verifyHmac } from '../lib/signatures.js';
import { BLANK_SECRET_ERROR, configuredSecrets } from '../lib/blank-secret.js';
import { bodyDigestKey } from '../lib/webhook-identity.js';
import {
  assigneeChanged,
  commentCreated,
  delegateChanged,
  issueCreated,
  labelNames,
  labelsChanged,
  personName,
  priorityChanged,
  rawLinearEvent,
  stateChanged,
} from '../lib/linear-events.js';

const DEFAULT_MAX_AGE_MS = 60_000;


/**
 * One delivery -> its events, as OrgLoop's linear-webhook maps them: an issue created; an issue
 * update is one event per change it carries (state, assignee, priority, labels, delegate); a new
 * comment; anything else (issue.remove, comment.update, project.create...) as `<type>.<action>`
 * with the body as payload.
 */
export function normalizeLinear(body: any): EmittedEvent[] {
  const type = typeof body?.type === 'string' ? body.type : '';
  const action = typeof body?.action === 'string' ? body.action : '';
  const data = body?.data;
  if (!data || typeof data !== 'object') return [];
  const from = body.updatedFrom && typeof body.updatedFrom === 'object' ? body.updatedFrom : undefined;
  const issue = { ...data, url: data.url ?? body.url };
  if (type === 'Issue' && action === 'create') return [issueCreated(issue)];
  if (type === 'Issue' && action === 'update' && from) {
    const out: EmittedEvent[] = [];
    if (from.state !== undefined || from.stateId !== undefined) {
      const prev = typeof from.state === 'string' ? from.state : typeof from.state?.name === 'string' ? from.state.name : 'Unknown';
      out.push(stateChanged(issue, prev));
    }
    if (from.assigneeId !== undefined) out.push(assigneeChanged(issue, personName(from.assignee)));
    if (from.priority !== undefined) out.push(priorityChanged(issue, typeof from.priority === 'number' ? from.priority : null));
    if (from.labelIds !== undefined) out.push(labelsChanged(issue, labelNames(from)));
    if (from.delegateId !== undefined) out.push(delegateChanged(issue, body.actor ?? null, from.delegateId ?? null));
    if (out.length) return out;
  }
  if (type === 'Comment' && action === 'create') return [commentCreated({ ...data, url: data.url ?? body.url })];
  if (!type || !action) return [];
  return [rawLinearEvent(type, action, body)];
}

/** OrgLoop's `events` filter: resource types (`Issue`, `Comment`) whose deliveries are turned into events. */
function allowedType(config: Record<string, unknown>, type: unknown): boolean {
  if (!Array.isArray(config.events) || config.events.length === 0) return true;
  return config.events.map(String).includes(String(type));
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
  if (typeof body?.type !== 'string' || typeof body?.action !== 'string') return { ok: false, status: 400, error: 'missing type or action field (is this a Linear webhook?)' };
  if ((body.type === 'Issue' || body.type === 'Comment') && !allowedType(ctx.config, body.type)) return { ok: true, events: [] };
  const delivery = req.headers['linear-delivery'];
  // Linear-Delivery is not signed; with a secret the signed body (which carries its own
  // webhookTimestamp) is the identity, so a replay inside max_age with a new header is a duplicate.
  const key = keys.length > 0 ? bodyDigestKey(req.rawBody) : (delivery ?? (body?.webhookId && body?.webhookTimestamp ? `${body.webhookId}:${body.webhookTimestamp}` : undefined));
  const events = normalizeLinear(body).map((e, i, all) => ({
    ...e,
    dedupe_key: key && all.length > 1 ? `${key}:${i}` : key,
    provenance: { ...e.provenance, delivery_id: delivery },
  }));
  return { ok: true, events };
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
      events: { type: 'array', items: { type: 'string' }, description: 'Linear resource types to turn into events: Issue, Comment (default: all)' },
      buffer_dir: { type: 'string', description: 'accepted for compatibility; deliveries are stored in the state store' },
      max_buffer_size: { type: 'string', description: 'accepted for compatibility (see buffer_dir)' },
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
