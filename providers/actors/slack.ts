// Actor `slack`: posts a message about the event to people, since most routes end there.
//
// Two ways in, as Slack offers them:
//   webhook_url   an incoming webhook (POST JSON { text, blocks? }; Slack answers the text `ok`,
//                 or 400 invalid_payload / 403 action_prohibited / 404 channel_not_found /
//                 410 channel_is_archived / 429 with Retry-After)
//   token         a bot token (xoxb-...) with the chat:write scope, and `channel`: chat.postMessage
//                 (HTTP 200 with { ok, error }; 429 with Retry-After)
// `text` (and `channel`, `thread_ts`, `username`, `icon_emoji`) may use {{path}} templates
// against the event, plus {{prompt}} for the route's prompt; the route's `then.config` overrides
// them. Rate limits retry after Retry-After; an unknown channel, bad auth or a bad payload fails
// at once (a retry cannot fix them).

import type { ActorProvider, DeliveryRequest, DeliveryResult, OrgEvent, ProviderContext } from '../types.js';
import { renderTemplateText } from '../lib/template.js';
import { VendorApiError, baseUrl, deliveryFailure, vendorJson } from '../lib/vendor-http.js';

export const DEFAULT_SLACK_API = 'https://slack.com/api';
const MAX_TEXT = 39_000; // Slack truncates messages beyond 40,000 characters

// chat.postMessage errors a retry may fix; the rest (channel_not_found, invalid_auth, not_in_channel...) cannot.
const RETRYABLE_ERRORS = new Set(['ratelimited', 'service_unavailable', 'fatal_error', 'internal_error', 'request_timeout']);

/** `[github] pull_request_review by carol: "Add login" https://...` */
export function defaultText(event: OrgEvent): string {
  const p = event.payload ?? {};
  const pv = event.provenance ?? {};
  const what = pv.platform_event ?? event.type;
  const title = ['title', 'subject', 'summary', 'name'].map((k) => p[k]).find((v) => typeof v === 'string' && v) as string | undefined;
  const url = (typeof p.url === 'string' && p.url) || pv.url || '';
  return [`[${event.source}] ${what}${pv.author ? ` by ${pv.author}` : ''}`, title ? `"${title}"` : '', url].filter(Boolean).join(' ');
}

function settings(ctx: ProviderContext, req: DeliveryRequest): Record<string, unknown> {
  return { ...ctx.config, ...(req.routeTemplate ?? req.routeConfig) };
}

function render(value: unknown, req: DeliveryRequest): string | undefined {
  if (typeof value !== 'string' || !value) return undefined;
  return renderTemplateText(value, { ...req.event, event: req.event, prompt: req.prompt ?? '' });
}

export function messageBody(ctx: ProviderContext, req: DeliveryRequest): Record<string, unknown> {
  const s = settings(ctx, req);
  const text = (render(s.text, req) ?? (req.prompt ? `${defaultText(req.event)}\n${req.prompt}` : defaultText(req.event))).slice(0, MAX_TEXT);
  const body: Record<string, unknown> = { text };
  for (const k of ['channel', 'thread_ts', 'username', 'icon_emoji']) {
    const v = render(s[k], req);
    if (v) body[k] = v;
  }
  if (s.unfurl_links === false) body.unfurl_links = false;
  return body;
}

async function deliver(ctx: ProviderContext, req: DeliveryRequest): Promise<DeliveryResult> {
  const body = messageBody(ctx, req);
  try {
    if (typeof ctx.config.webhook_url === 'string' && ctx.config.webhook_url) {
      delete body.channel; // an incoming webhook posts to the channel it was created for
      await vendorJson('Slack', 'incoming webhook', ctx.config.webhook_url, { method: 'POST', body, text: true, signal: req.signal, timeoutMs: req.timeoutMs });
      return { ok: true };
    }
    if (!body.channel) return { ok: false, retryable: false, error: 'slack: no channel (set config.channel, or the route then.config.channel)' };
    const res = await vendorJson<{ ok: boolean; error?: string; ts?: string }>('Slack', 'chat.postMessage', `${baseUrl(ctx.config.base_url, DEFAULT_SLACK_API)}/chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ctx.config.token}`, 'content-type': 'application/json; charset=utf-8' },
      body,
      signal: req.signal,
      timeoutMs: req.timeoutMs,
    });
    if (!res.data?.ok) {
      const error = res.data?.error ?? 'unknown_error';
      return { ok: false, retryable: RETRYABLE_ERRORS.has(error), error: `Slack chat.postMessage failed: ${error}` };
    }
    return { ok: true };
  } catch (err) {
    return deliveryFailure(err, req.signal);
  }
}

async function check(ctx: ProviderContext): Promise<{ ok: boolean; detail: string }> {
  if (typeof ctx.config.webhook_url === 'string' && ctx.config.webhook_url) {
    // An incoming webhook has no read-only call: posting an empty payload gets 400 invalid_payload
    // (or no_text) from a live hook, and 403/404/410 from a revoked or archived one.
    try {
      await vendorJson('Slack', 'incoming webhook', ctx.config.webhook_url, { method: 'POST', body: {}, text: true, signal: ctx.signal, timeoutMs: 10_000 });
      return { ok: true, detail: 'incoming webhook reachable' };
    } catch (err) {
      const status = (err as VendorApiError).status;
      if (status === 400) return { ok: true, detail: 'incoming webhook reachable (it refused an empty test message, as expected)' };
      return { ok: false, detail: (err as Error).message };
    }
  }
  try {
    const res = await vendorJson<{ ok: boolean; error?: string; team?: string; user?: string }>('Slack', 'auth.test', `${baseUrl(ctx.config.base_url, DEFAULT_SLACK_API)}/auth.test`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ctx.config.token}` },
      signal: ctx.signal,
      timeoutMs: 10_000,
    });
    if (!res.data.ok) return { ok: false, detail: `Slack auth.test failed: ${res.data.error}` };
    return { ok: true, detail: `authenticated as ${res.data.user} in ${res.data.team}` };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

function validate(config: Record<string, unknown>): Array<{ path: string; message: string }> {
  const hook = typeof config.webhook_url === 'string' && config.webhook_url;
  const token = typeof config.token === 'string' && config.token;
  if (!hook && !token) return [{ path: '', message: 'set webhook_url (an incoming webhook) or token (a bot token with chat:write) and channel' }];
  if (hook && token) return [{ path: 'token', message: 'set webhook_url or token, not both' }];
  if (hook && !/^https?:\/\//.test(hook)) return [{ path: 'webhook_url', message: 'must be an http(s) URL' }];
  return [];
}

export const slackActor: ActorProvider = {
  kind: 'actor',
  name: 'slack',
  description: 'Posts a message to Slack (incoming webhook or chat.postMessage)',
  configSchema: {
    type: 'object',
    properties: {
      webhook_url: { type: 'string', sensitive: true, description: 'incoming webhook URL (write "${SLACK_WEBHOOK_URL}")' },
      token: { type: 'string', sensitive: true, description: 'bot token with chat:write (write "${SLACK_BOT_TOKEN}")' },
      channel: { type: 'string', description: 'channel id or name for chat.postMessage (templated)' },
      text: { type: 'string', description: 'message text; {{path}} templates against the event, {{prompt}} for the route prompt' },
      thread_ts: { type: 'string', description: 'reply in this thread (templated)' },
      username: { type: 'string' },
      icon_emoji: { type: 'string' },
      unfurl_links: { type: 'boolean' },
      base_url: { type: 'string', description: 'Web API base (default https://slack.com/api)' },
    },
    additionalProperties: false,
  },
  sensitive: ['webhook_url', 'token'],
  validate,
  deliver,
  check,
};

export default slackActor;
