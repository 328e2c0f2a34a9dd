// Actor `pagerduty`: triggers, acknowledges or resolves a PagerDuty alert through the Events API
// v2 (`POST /v2/enqueue` with an integration's routing key).
//
// `action` (trigger | acknowledge | resolve), `dedup_key`, `summary`, `severity`, `source`,
// `component`, `group` and `class` may use {{path}} templates against the event; the route's
// `then.config` overrides them (one actor, several routes: "trigger on alert", "resolve when the
// responder's actor.stopped says so"). The dedup key defaults to the event's trace id, so a retried
// delivery and the later acknowledge/resolve of the same chain address one alert.
// Outcome: 202 ok; 429 and 5xx retry (Retry-After honoured); 400 (invalid event) fails at once.

import type { ActorProvider, DeliveryRequest, DeliveryResult, ProviderContext } from '../types.js';
import { renderTemplateText } from '../lib/template.js';
import { deliveryFailure, vendorJson } from '../lib/vendor-http.js';
import { eventsUrl, type EnqueueBody } from '../lib/pagerduty-api.js';
import { defaultText } from './slack.js';

const ACTIONS = ['trigger', 'acknowledge', 'resolve'] as const;
const SEVERITIES = ['critical', 'error', 'warning', 'info'];

export function enqueueBody(ctx: ProviderContext, req: DeliveryRequest): EnqueueBody | { error: string } {
  const s: Record<string, unknown> = { ...ctx.config, ...(req.routeTemplate ?? req.routeConfig) };
  const data = { ...req.event, event: req.event, prompt: req.prompt ?? '' };
  const text = (k: string) => (typeof s[k] === 'string' && s[k] ? renderTemplateText(s[k] as string, data) : undefined);
  const action = (text('action') ?? 'trigger') as EnqueueBody['event_action'];
  if (!ACTIONS.includes(action)) return { error: `pagerduty: action "${action}" is not one of ${ACTIONS.join(', ')}` };
  const dedup = text('dedup_key') ?? req.event.trace_id;
  const body: EnqueueBody = { routing_key: String(ctx.config.routing_key), event_action: action, dedup_key: dedup.slice(0, 255), client: 'orgloop' };
  if (action === 'trigger') {
    const severity = text('severity') ?? 'error';
    if (!SEVERITIES.includes(severity)) return { error: `pagerduty: severity "${severity}" is not one of ${SEVERITIES.join(', ')}` };
    body.payload = {
      summary: (text('summary') ?? defaultText(req.event)).slice(0, 1024),
      source: text('source') ?? req.event.source,
      severity,
      timestamp: req.event.time,
      custom_details: { event_id: req.event.id, platform_event: req.event.provenance?.platform_event ?? null, payload: req.event.payload },
    };
    for (const k of ['component', 'group', 'class'] as const) {
      const v = text(k);
      if (v) body.payload[k] = v;
    }
    const url = req.event.provenance?.url;
    if (typeof url === 'string' && /^https?:\/\//.test(url)) body.links = [{ href: url, text: 'source' }];
  }
  return body;
}

async function deliver(ctx: ProviderContext, req: DeliveryRequest): Promise<DeliveryResult> {
  const body = enqueueBody(ctx, req);
  if ('error' in body) return { ok: false, retryable: false, error: body.error };
  try {
    await vendorJson('PagerDuty', `Events API ${body.event_action}`, eventsUrl(ctx.config.events_url), { method: 'POST', body, signal: req.signal, timeoutMs: req.timeoutMs, defaultBackoffMs: 30_000 });
    return { ok: true };
  } catch (err) {
    return deliveryFailure(err, req.signal);
  }
}

function validate(config: Record<string, unknown>): Array<{ path: string; message: string }> {
  const a = config.action;
  if (typeof a === 'string' && !a.includes('{{') && !(ACTIONS as readonly string[]).includes(a)) return [{ path: 'action', message: `one of ${ACTIONS.join(', ')} (or a {{template}})` }];
  const sv = config.severity;
  if (typeof sv === 'string' && !sv.includes('{{') && !SEVERITIES.includes(sv)) return [{ path: 'severity', message: `one of ${SEVERITIES.join(', ')} (or a {{template}})` }];
  return [];
}

export const pagerdutyActor: ActorProvider = {
  kind: 'actor',
  name: 'pagerduty',
  description: 'Triggers, acknowledges or resolves PagerDuty alerts (Events API v2)',
  configSchema: {
    type: 'object',
    properties: {
      routing_key: { type: 'string', sensitive: true, description: 'integration key of an Events API v2 integration (write "${PAGERDUTY_ROUTING_KEY}")' },
      action: { type: 'string', description: 'trigger | acknowledge | resolve (templated; default trigger)' },
      dedup_key: { type: 'string', description: 'alert key (templated; default the event trace id)' },
      summary: { type: 'string', description: 'alert summary (templated)' },
      severity: { type: 'string', description: 'critical | error | warning | info (default error)' },
      source: { type: 'string', description: 'affected system (default the event source id)' },
      component: { type: 'string' },
      group: { type: 'string' },
      class: { type: 'string' },
      events_url: { type: 'string', description: 'Events API base (default https://events.pagerduty.com; events.eu.pagerduty.com in the EU)' },
    },
    required: ['routing_key'],
    additionalProperties: false,
  },
  sensitive: ['routing_key'],
  validate,
  deliver,
};

export default pagerdutyActor;
