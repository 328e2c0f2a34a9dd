// Actor `webhook`: POSTs (or config.method) a JSON document to `url` per delivery.
//
// Default body: { event, prompt, launch_prompt, config: <route then.config, rendered>, delivery:
// { id, attempt, route } } (`launch_prompt` is OrgLoop's name for the prompt; templates see both).
// With `body` (or OrgLoop's `body_template`; an object or a string) that template is rendered
// instead; templates see the event's fields at top level ({{payload.x}}) and also event, prompt,
// launch_prompt, config and delivery. Values are encoded for where they land (template-position.ts):
// URL components percent-encoded, JSON as string content or one JSON value, form fields encoded.
// Headers: Standard Webhooks `webhook-id` (= delivery id, stable across retries), and when
// `secret` is set `webhook-timestamp` + `webhook-signature`; Authorization from `auth.bearer`,
// or OrgLoop's `auth: { type: bearer, token }` / `{ type: basic, username, password }`;
// `hmac_secret` adds X-Hub-Signature-256 (sha256=<hex> over the body, as a webhook source checks);
// `headers` added as given (templates allowed); `traceparent` (W3C) continues orgloop's trace.
// Outcome: 2xx ok; 408, 409, 425, 429, 5xx, timeouts and network errors retryable (Retry-After
// honoured); other statuses, and a header that cannot be sent, fail at once (not retryable).
// Requests go through node:http(s) with keep-alive agents, which carry many small deliveries far
// faster than global fetch (docs/performance.md).

import type { ActorProvider, DeliveryRequest, DeliveryResult, ProviderContext } from '../types.js';
import { durationIssue, parseDuration } from '../lib/duration.js';
import { isHttpUrl, RequestTimeoutError, sendRequest, type HttpResponse } from '../lib/http-request.js';
import { signGithub, standardHeaders } from '../lib/signatures.js';
import { isRetryableStatus, parseRetryAfter, stoppingOutcome, unsendableHeader } from '../lib/http-outcome.js';
import { jsonObject } from '../lib/json.js';
import { hasTemplate, renderDeep, renderTemplateText } from '../lib/template.js';
import { renderForm, renderJsonText, renderUrl } from '../lib/template-position.js';
import { anyCase } from '../lib/schema.js';
import { reach } from '../lib/preflight.js';

const RESPONSE_SNIPPET = 300;
/** Response bytes kept for error messages; the rest is read and discarded so the socket is reused. */
const RESPONSE_KEEP = 16 * 1024;

interface Compiled {
  timeoutMs?: number;
  method: string;
}
const compiledByConfig = new WeakMap<object, Compiled>();
function compile(config: Record<string, unknown>): Compiled {
  let c = compiledByConfig.get(config);
  if (!c) {
    c = { method: typeof config.method === 'string' ? config.method.toUpperCase() : 'POST' };
    if (config.timeout !== undefined) c.timeoutMs = parseDuration(config.timeout as string);
    compiledByConfig.set(config, c);
  }
  return c;
}

/**
 * A string body template is rendered for the body's content type: JSON (the default) keeps every
 * value inside its string or as one JSON value, a form body encodes each value, and any other
 * type (text/plain...) takes the text as it is, since there is no structure to break.
 */
function renderBodyText(template: string, data: unknown, contentType: string): string {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) return renderJsonText(template, data);
  if (type === 'application/x-www-form-urlencoded') return renderForm(template, data);
  return renderTemplateText(template, data);
}

function buildBody(config: Record<string, unknown>, req: DeliveryRequest, contentType: string): string {
  const delivery = req.callback
    ? { id: req.delivery_id, attempt: req.attempt, route: req.route, callback: req.callback }
    : { id: req.delivery_id, attempt: req.attempt, route: req.route };
  const template = config.body ?? config.body_template;
  // launch_prompt: where receivers written for OrgLoop's webhook target read the prompt
  if (template === undefined || template === null) return jsonObject({ event: req.eventJson }, { prompt: req.prompt, launch_prompt: req.prompt, config: req.routeConfig, delivery });
  const data = { ...req.event, event: req.event, prompt: req.prompt, launch_prompt: req.prompt ?? '', config: req.routeConfig, delivery };
  if (typeof template === 'string') return renderBodyText(template, data, contentType);
  return JSON.stringify(renderDeep(template, data));
}

/** The Authorization header `auth` asks for, or undefined. */
export function authorization(auth: unknown): string | undefined {
  if (!auth || typeof auth !== 'object') return undefined;
  const a = auth as { bearer?: unknown; type?: unknown; token?: unknown; username?: unknown; password?: unknown };
  if (typeof a.bearer === 'string' && a.bearer) return `Bearer ${a.bearer}`;
  if (a.type === 'bearer' && typeof a.token === 'string' && a.token) return `Bearer ${a.token}`;
  if (a.type === 'basic' && typeof a.username === 'string' && typeof a.password === 'string') {
    return `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`;
  }
  return undefined;
}

function networkErrorText(err: unknown): string {
  const e = err as { message?: string; code?: string };
  const msg = e.message ?? String(err);
  return e.code && !msg.includes(e.code) ? `${msg} (${e.code})` : msg;
}

/**
 * Builds the request and sends it. Not async: the body (megabytes for a large event) then lives
 * only as long as the request needs it, not for as long as a slow actor takes to answer.
 */
function send(config: Record<string, unknown>, c: Compiled, req: DeliveryRequest, timeoutMs: number): Promise<HttpResponse> | { error: string } {
  let data: Record<string, unknown> | undefined;
  const templateData = () => (data ??= { ...req.event, event: req.event, config: req.routeConfig });
  // Event values in the URL are encoded for their position (hole 9): a repo name of `../admin`
  // stays one path segment instead of sending the bearer token to /admin.
  let url = String(config.url);
  if (typeof config.url === 'string' && hasTemplate(config.url)) {
    const r = renderUrl(config.url, templateData());
    if (!r.ok) return { error: r.error };
    url = r.text;
  }

  // Header values are text; CR, LF and other control characters are refused below (unsendableHeader).
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'orgloop', 'webhook-id': req.delivery_id };
  if (req.traceparent) headers.traceparent = req.traceparent;
  if (config.headers && typeof config.headers === 'object') {
    for (const [k, v] of Object.entries(config.headers as Record<string, unknown>)) {
      if (v === undefined || v === null) continue;
      headers[k.toLowerCase()] = typeof v === 'string' ? renderTemplateText(v, templateData()) : String(v);
    }
  }
  const body = c.method === 'GET' || c.method === 'HEAD' ? undefined : buildBody(config, req, headers['content-type']!);
  if (req.callback) {
    headers['orgloop-callback-url'] = req.callback.url;
    headers['orgloop-callback-token'] = req.callback.token;
  }
  const auth = authorization(config.auth);
  if (auth) headers.authorization = auth;
  if (typeof config.secret === 'string' && config.secret) {
    Object.assign(headers, standardHeaders(config.secret, req.delivery_id, body ?? ''));
  }
  // OrgLoop's org-to-org pattern pairs this with a webhook source's `hmac_secret`, which (like
  // OrgLoop's) checks X-Hub-Signature-256 over the raw body.
  if (typeof config.hmac_secret === 'string' && config.hmac_secret) headers['x-hub-signature-256'] = signGithub(config.hmac_secret, body ?? '');

  if (!isHttpUrl(url)) return { error: 'url does not render to an http(s) URL' };
  const unsendable = unsendableHeader(headers);
  if (unsendable) return { error: unsendable };
  return sendRequest(url, c.method, headers, body, req.signal, { maxBodyBytes: RESPONSE_KEEP, timeoutMs });
}

export async function deliverWebhook(ctx: ProviderContext, req: DeliveryRequest): Promise<DeliveryResult> {
  const c = compile(ctx.config);
  const timeoutMs = c.timeoutMs ?? req.timeoutMs;
  const sent = send(ctx.config, c, req, timeoutMs);
  if ('error' in sent) return { ok: false, retryable: false, error: sent.error };
  let res: HttpResponse;
  try {
    res = await sent;
  } catch (err) {
    if (err instanceof RequestTimeoutError) return { ok: false, retryable: true, error: `timed out after ${timeoutMs}ms` };
    if (req.signal.aborted) return stoppingOutcome();
    return { ok: false, retryable: true, error: `request failed: ${networkErrorText(err)}` };
  }
  const text = res.text;
  if (res.status >= 200 && res.status < 300) return { ok: true };
  const snippet = text.length > RESPONSE_SNIPPET ? `${text.slice(0, RESPONSE_SNIPPET)}…` : text;
  const error = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${snippet ? `: ${snippet}` : ''}`;
  if (!isRetryableStatus(res.status)) return { ok: false, retryable: false, error };
  const ra = res.headers['retry-after'];
  const retryAfterMs = parseRetryAfter(Array.isArray(ra) ? ra[0] : ra);
  return retryAfterMs === undefined ? { ok: false, retryable: true, error } : { ok: false, retryable: true, error, retryAfterMs };
}

export const webhookActor: ActorProvider = {
  kind: 'actor',
  name: 'webhook',
  description: 'Delivers events to an HTTP endpoint as JSON, signed with Standard Webhooks when a secret is set.',
  configSchema: {
    type: 'object',
    additionalProperties: true,
    required: ['url'],
    properties: {
      url: { type: 'string', minLength: 1, description: 'http(s) URL; {{path}} templates allowed' },
      method: { type: 'string', enum: ['POST', 'PUT', 'PATCH', 'GET', 'DELETE', 'post', 'put', 'patch', 'get', 'delete'], default: 'POST' },
      headers: {
        type: 'object',
        additionalProperties: { type: ['string', 'number', 'boolean'] },
        // credentials sent as headers: masked in plans and state whatever their case
        patternProperties: { [anyCase('^(?:authorization|proxy-authorization|cookie|x-api-key|api-key|x-auth-token)$')]: { type: ['string', 'number', 'boolean'], sensitive: true } },
      },
      auth: {
        type: 'object',
        additionalProperties: true,
        properties: {
          bearer: { type: 'string', minLength: 1, sensitive: true, description: 'sent as Authorization: Bearer <token>' },
          type: { enum: ['bearer', 'basic'], description: 'OrgLoop form: bearer (with token) or basic (with username and password)' },
          token: { type: 'string', minLength: 1, sensitive: true },
          username: { type: 'string' },
          password: { type: 'string', sensitive: true },
        },
      },
      secret: { type: 'string', minLength: 1, sensitive: true, description: 'signs requests (Standard Webhooks); whsec_<base64> or plain text' },
      hmac_secret: { type: 'string', minLength: 1, sensitive: true, description: 'signs requests with X-Hub-Signature-256: sha256=<hex HMAC of the body> (OrgLoop org-to-org)' },
      timeout: { type: 'string', description: 'request timeout, e.g. 30s (default: the route delivery timeout)' },
      body: { type: ['object', 'string', 'array'], description: 'body template; default { event, prompt, config, delivery }' },
      body_template: { type: ['object', 'string', 'array'], description: 'same as body (OrgLoop spelling)' },
    },
  },
  validate(config) {
    const issues: Array<{ path: string; message: string }> = [];
    if (typeof config.url === 'string' && !hasTemplate(config.url)) {
      let ok = false;
      try {
        const u = new URL(config.url);
        ok = u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        ok = false;
      }
      if (!ok) issues.push({ path: 'url', message: `url must be an http(s) URL, got ${JSON.stringify(config.url)}` });
    }
    const t = durationIssue(config, 'timeout');
    if (t) issues.push(t);
    if (config.body !== undefined && config.body_template !== undefined) issues.push({ path: 'body_template', message: 'set body or body_template, not both' });
    const a = config.auth as Record<string, unknown> | undefined;
    if (a && typeof a === 'object') {
      if (a.type === 'bearer' && (typeof a.token !== 'string' || !a.token)) issues.push({ path: 'auth.token', message: 'auth type bearer needs token' });
      if (a.type === 'basic' && (typeof a.username !== 'string' || typeof a.password !== 'string')) issues.push({ path: 'auth.username', message: 'auth type basic needs username and password' });
      if (a.type === undefined && a.bearer === undefined) issues.push({ path: 'auth', message: 'auth needs bearer: <token>, or type: bearer | basic' });
    }
    return issues;
  },
  /** doctor: can this machine reach the endpoint? A connection (and TLS handshake), never a request: the actor may act on any. */
  async check(ctx) {
    const raw = typeof ctx.config.url === 'string' ? ctx.config.url : '';
    const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(raw)?.[0];
    if (!origin || hasTemplate(origin)) return { ok: true, skipped: true, detail: 'the url host comes from the event (templated): not checked' };
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return { ok: false, detail: 'url is not a valid URL' };
    }
    const timeoutMs = ctx.config.timeout ? Math.min(parseDuration(ctx.config.timeout as string), 10_000) : 10_000;
    return reach(url, timeoutMs, ctx.signal);
  },
  deliver: deliverWebhook,
};
