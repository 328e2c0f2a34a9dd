// Actor `openclaw`: wakes an OpenClaw agent through the gateway's `POST /hooks/agent`.
//
// Body: { message, name, agentId, sessionKey, wakeMode, deliver, channel, to, lane?, model?,
// thinking?, timeoutSeconds? }. `message` is a one-line summary of the event, the route's prompt
// (its SOP), and the event as JSON. Auth: `Authorization: Bearer <token>` where the token is
// `auth_token_env` — written as "${OPENCLAW_TOKEN}" (the value) or as a bare variable name.
// OrgLoop's module spec spells these `webhook_url` (the full /hooks/agent URL), `token` and `agent`.
// The route's `then.config` may set session_key (templated, e.g. "pr-{{payload.number}}"),
// agent_id, wake_mode, deliver, channel, to, lane, model, thinking, timeout_seconds.
// Outcome: 2xx ok (the gateway has accepted the run; the agent works asynchronously). 408, 429,
// 5xx, timeouts and network errors are retryable (Retry-After honoured); other statuses are not.
// The delivery id goes in Idempotency-Key so a retried request can be recognised.

import type { ActorProvider, DeliveryRequest, DeliveryResult, OrgEvent, ProviderContext } from '../types.js';
import { durationIssue, parseDuration } from '../lib/duration.js';
import { hasTemplate, renderTemplateText } from '../lib/template.js';
import { fetchErrorText } from '../lib/fetch-error.js';
import { isRetryableStatus, parseRetryAfter, stoppingOutcome, unsendableHeader } from '../lib/http-outcome.js';

export const DEFAULT_OPENCLAW_URL = 'http://127.0.0.1:18789';
const MAX_EVENT_JSON = 12_000;
const MAX_BODY_EXCERPT = 2_000;

export function gatewayUrl(config: Record<string, unknown>): string {
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  // OrgLoop's module spec writes the full endpoint (`webhook_url: .../hooks/agent`); the gateway is its base.
  const hook = str(config.webhook_url)?.replace(/\/+$/, '').replace(/\/hooks\/agent$/, '');
  const u = str(config.base_url) ?? str(config.url) ?? hook ?? DEFAULT_OPENCLAW_URL;
  return u.replace(/\/+$/, '');
}

/** The bearer token: the value of auth_token_env, or the variable it names when written bare. */
export function gatewayToken(ctx: Pick<ProviderContext, 'config' | 'env'>): string | undefined {
  const v = ctx.config.auth_token_env ?? ctx.config.auth_token ?? ctx.config.token;
  if (typeof v !== 'string' || !v) return undefined;
  if (/^[A-Z_][A-Z0-9_]*$/.test(v)) {
    const fromEnv = ctx.env(v);
    if (fromEnv) return fromEnv;
  }
  return v;
}

/** `[github] pull_request_review by carol: acme/api#7 "Add login" https://...` */
export function summarize(event: OrgEvent): string {
  const p = event.payload ?? {};
  const pv = event.provenance ?? {};
  const what = pv.platform_event && pv.platform_event !== event.type ? `${event.type} (${pv.platform_event})` : event.type;
  const parts = [`[${event.source}] ${what}`];
  if (pv.author) parts.push(`by ${pv.author}`);
  const ref = [p.repo, p.number !== undefined && p.number !== null ? `#${p.number}` : ''].filter(Boolean).join('');
  const title = typeof p.title === 'string' && p.title ? `"${p.title}"` : '';
  const tail = [ref, title, (p.url as string) ?? pv.url ?? ''].filter(Boolean).join(' ');
  return tail ? `${parts.join(' ')}: ${tail}` : parts.join(' ');
}

/** How the agent reports that it finished: it needs the token sent with this delivery. */
export function callbackInstructions(deliveryId: string, callback: NonNullable<DeliveryRequest['callback']>): string {
  return [
    'When you have finished, report it to OrgLoop once:',
    `POST ${callback.url}`,
    `Authorization: Bearer ${callback.token}`,
    'Content-Type: application/json',
    JSON.stringify({ delivery_id: deliveryId, outcome: 'success', output_tail: '<one-paragraph summary>' }),
    '(outcome: success, failure, or a word your routes react to, e.g. needs-review)',
  ].join('\n');
}

export function buildMessage(event: OrgEvent, prompt: string | null, callback?: { deliveryId: string; callback: NonNullable<DeliveryRequest['callback']> }): string {
  const lines = [summarize(event)];
  const body = event.payload?.body;
  if (typeof body === 'string' && body.trim()) {
    lines.push('', body.length > MAX_BODY_EXCERPT ? `${body.slice(0, MAX_BODY_EXCERPT)}…` : body);
  }
  if (prompt && prompt.trim()) lines.push('', '---', '', prompt.trim());
  let json = JSON.stringify({ id: event.id, type: event.type, source: event.source, time: event.time, provenance: event.provenance, payload: event.payload, trace_id: event.trace_id, hops: event.hops }, null, 2);
  if (json.length > MAX_EVENT_JSON) json = `${json.slice(0, MAX_EVENT_JSON)}\n… (truncated)`;
  lines.push('', '---', 'Event:', '```json', json, '```');
  if (callback) lines.push('', '---', callbackInstructions(callback.deliveryId, callback.callback));
  return lines.join('\n');
}

function pick<T>(...values: unknown[]): T | undefined {
  for (const v of values) if (v !== undefined && v !== null && v !== '') return v as T;
  return undefined;
}

export function agentRequestBody(ctx: ProviderContext, req: DeliveryRequest): Record<string, unknown> {
  const c = ctx.config;
  const r = req.routeConfig ?? {};
  // the session key as written: rendering the rendered one again would expand `{{...}}` inside event values
  const t = req.routeTemplate ?? r;
  let sessionKey = pick<string>(t.session_key, t.sessionKey, c.session_key) ?? `orgloop:${req.event.source}:${req.route}`;
  if (hasTemplate(sessionKey)) sessionKey = renderTemplateText(sessionKey, req.event);
  const body: Record<string, unknown> = {
    message: buildMessage(req.event, req.prompt, req.callback ? { deliveryId: req.delivery_id, callback: req.callback } : undefined),
    name: pick(r.name, c.name) ?? 'OrgLoop',
    agentId: pick(r.agent_id, r.agentId, c.agent_id, c.agent),
    sessionKey,
    wakeMode: pick(r.wake_mode, r.wakeMode, c.wake_mode) ?? 'now',
    deliver: pick<boolean>(r.deliver, c.deliver) ?? false,
    channel: pick(r.channel, c.default_channel),
    to: pick(r.to, c.default_to),
    lane: pick(r.lane, c.lane),
    model: pick(r.model, c.model),
    thinking: pick(r.thinking, c.thinking),
    timeoutSeconds: pick(r.timeout_seconds, c.timeout_seconds),
    threadId: pick(r.thread_id),
  };
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  return body;
}

async function deliver(ctx: ProviderContext, req: DeliveryRequest): Promise<DeliveryResult> {
  const timeoutMs = ctx.config.timeout ? parseDuration(String(ctx.config.timeout)) : req.timeoutMs;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'orgloop', 'idempotency-key': req.delivery_id };
  if (req.traceparent) headers.traceparent = req.traceparent;
  const token = gatewayToken(ctx);
  if (token) headers.authorization = `Bearer ${token}`;
  const unsendable = unsendableHeader(headers);
  if (unsendable) return { ok: false, retryable: false, error: unsendable };
  const timeout = AbortSignal.timeout(timeoutMs);
  const url = `${gatewayUrl(ctx.config)}/hooks/agent`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(agentRequestBody(ctx, req)), signal: AbortSignal.any([req.signal, timeout]) });
  } catch (err) {
    if (timeout.aborted) return { ok: false, retryable: true, error: `OpenClaw gateway did not answer within ${timeoutMs}ms` };
    if (req.signal.aborted) return stoppingOutcome();
    return { ok: false, retryable: true, error: `OpenClaw gateway at ${gatewayUrl(ctx.config)} unreachable: ${fetchErrorText(err)}` };
  }
  const text = await res.text().catch(() => '');
  if (res.ok) return { ok: true };
  const snippet = text.length > 300 ? `${text.slice(0, 300)}…` : text;
  const hint =
    res.status === 401 || res.status === 403
      ? ' (check auth_token_env: it must be the gateway hooks.token)'
      : res.status === 404
        ? ' (are hooks enabled on the gateway? hooks.enabled / hooks.path)'
        : '';
  const error = `OpenClaw /hooks/agent answered HTTP ${res.status}${snippet ? `: ${snippet}` : ''}${hint}`;
  if (isRetryableStatus(res.status)) {
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    return retryAfterMs === undefined ? { ok: false, retryable: true, error } : { ok: false, retryable: true, error, retryAfterMs };
  }
  return { ok: false, retryable: false, error };
}

/**
 * Reachability: GET /health. Credentials: POST /hooks/agent with an empty body — an accepted token
 * gets 400 (message required) and starts no run; a wrong token gets 401.
 */
async function check(ctx: ProviderContext): Promise<{ ok: boolean; detail: string }> {
  const base = gatewayUrl(ctx.config);
  try {
    const health = await fetch(`${base}/health`, { signal: AbortSignal.timeout(10_000) });
    await health.text();
    if (!health.ok) return { ok: false, detail: `${base}/health answered HTTP ${health.status}` };
    const token = gatewayToken(ctx);
    const probe = await fetch(`${base}/hooks/agent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: '{}',
      signal: AbortSignal.timeout(10_000),
    });
    await probe.text();
    if (probe.status === 401 || probe.status === 403) return { ok: false, detail: `gateway ${base} is up but rejected the hooks token (HTTP ${probe.status}); check auth_token_env` };
    if (probe.status === 404) return { ok: false, detail: `gateway ${base} is up but /hooks/agent is not enabled (hooks.enabled)` };
    return { ok: true, detail: `gateway ${base} healthy; hooks token accepted` };
  } catch (err) {
    return { ok: false, detail: `gateway ${base} unreachable: ${fetchErrorText(err)}` };
  }
}

export const openclawActor: ActorProvider = {
  kind: 'actor',
  name: 'openclaw',
  description: 'Wakes an OpenClaw agent through the gateway /hooks/agent endpoint',
  configSchema: {
    type: 'object',
    properties: {
      base_url: { type: 'string', description: `gateway URL (default ${DEFAULT_OPENCLAW_URL})` },
      url: { type: 'string', description: 'alias of base_url' },
      agent_id: { type: 'string' },
      agent: { type: 'string', description: 'alias of agent_id (OrgLoop module spec)' },
      webhook_url: { type: 'string', description: 'the gateway\'s /hooks/agent URL; alias of base_url (OrgLoop module spec)' },
      token: { type: 'string', sensitive: true, description: 'alias of auth_token_env (OrgLoop module spec)' },
      auth_token_env: { type: 'string', sensitive: true, description: 'hooks token: "${OPENCLAW_TOKEN}" or the variable name' },
      auth_token: { type: 'string', sensitive: true, description: 'alias of auth_token_env' },
      default_channel: { type: 'string' },
      default_to: { type: 'string' },
      lane: { type: 'string' },
      wake_mode: { type: 'string', enum: ['now', 'next-heartbeat'] },
      deliver: { type: 'boolean' },
      session_key: { type: 'string' },
      model: { type: 'string' },
      thinking: { type: 'string' },
      timeout_seconds: { type: 'integer', minimum: 1 },
      timeout: { type: 'string', description: 'HTTP request timeout (default: the route delivery timeout)' },
      name: { type: 'string' },
    },
  },
  validate(config) {
    const issues: Array<{ path: string; message: string }> = [];
    try {
      const u = new URL(gatewayUrl(config));
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    } catch {
      const path = config.base_url ? 'base_url' : config.url ? 'url' : 'webhook_url';
      issues.push({ path, message: `not an http(s) URL: ${JSON.stringify(config[path])}` });
    }
    const t = durationIssue(config, 'timeout');
    if (t) issues.push(t);
    return issues;
  },
  deliver,
  check,
};

export default openclawActor;
