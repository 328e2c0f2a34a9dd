// A fake PagerDuty on 127.0.0.1: the REST API v2 reads orgloop makes (GET /incidents,
// /log_entries with since/until windows on created_at, classic offset/limit/more pagination,
// `service_ids[]`; GET /abilities; GET /services/:id), `Authorization: Token token=<key>` (401
// otherwise, with PagerDuty's error shape), 429 with `ratelimit-reset` when `rateLimitNext` is
// set; and the Events API v2 (`POST /v2/enqueue`: 202 with dedup_key, 400 "invalid event" with
// errors, alert state kept per dedup_key).

import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakePagerduty {
  url: string;
  apiKey: string;
  routingKey: string;
  incidents: any[];
  logEntries: any[];
  /** Events API alerts by dedup_key */
  alerts: Map<string, { status: 'triggered' | 'acknowledged' | 'resolved'; summary?: string; severity?: string; history: string[] }>;
  requests: Array<{ path: string; query: URLSearchParams; status: number }>;
  rateLimitNext(n: number, resetSeconds: number): void;
  addIncident(p: { title: string; service?: { id: string; summary: string }; created_at?: string }): any;
  addLogEntry(incident: any, type: string, p?: { created_at?: string; agent?: any; channel?: any }): any;
  close(): Promise<void>;
}

export async function startFakePagerduty(opts: { apiKey?: string; routingKey?: string } = {}): Promise<FakePagerduty> {
  const apiKey = opts.apiKey ?? 'pd-api-key';
  const routingKey = opts.routingKey ?? 'R0123456789abcdef0123456789abcde';
  let limited = 0;
  let reset = 1;
  let number = 0;
  const fake = {
    apiKey,
    routingKey,
    incidents: [] as any[],
    logEntries: [] as any[],
    alerts: new Map(),
    requests: [] as FakePagerduty['requests'],
    rateLimitNext(n: number, resetSeconds: number) {
      limited = n;
      reset = resetSeconds;
    },
    addIncident(p: { title: string; service?: { id: string; summary: string }; created_at?: string }) {
      const id = 'P' + randomUUID().slice(0, 6).toUpperCase();
      const inc = {
        id,
        type: 'incident',
        incident_number: ++number,
        title: p.title,
        summary: `[#${number}] ${p.title}`,
        status: 'triggered',
        urgency: 'high',
        created_at: p.created_at ?? new Date().toISOString(),
        service: { id: p.service?.id ?? 'PSVC001', type: 'service_reference', summary: p.service?.summary ?? 'API' },
        assignments: [{ assignee: { id: 'PUSER01', type: 'user_reference', summary: 'Ada Lovelace' } }],
        html_url: `https://acme.pagerduty.com/incidents/${id}`,
      };
      fake.incidents.push(inc);
      fake.addLogEntry(inc, 'trigger_log_entry', { created_at: inc.created_at, agent: { type: 'service_reference', summary: inc.service.summary } });
      return inc;
    },
    addLogEntry(incident: any, type: string, p: { created_at?: string; agent?: any; channel?: any } = {}) {
      const e = {
        id: 'R' + randomUUID().slice(0, 8).toUpperCase(),
        type,
        summary: `${type.replace(/_log_entry$/, '')} by ${p.agent?.summary ?? 'Ada Lovelace'}`,
        created_at: p.created_at ?? new Date().toISOString(),
        agent: p.agent ?? { id: 'PUSER01', type: 'user_reference', summary: 'Ada Lovelace' },
        channel: p.channel ?? { type: 'web_ui' },
        service: incident.service,
        incident: { id: incident.id, type: 'incident_reference', summary: incident.summary, html_url: incident.html_url },
      };
      if (type === 'acknowledge_log_entry') incident.status = 'acknowledged';
      if (type === 'resolve_log_entry') incident.status = 'resolved';
      fake.logEntries.push(e);
      return e;
    },
  };

  function window(list: any[], q: URLSearchParams) {
    const since = q.get('since') ? Date.parse(q.get('since')!) : -Infinity;
    const until = q.get('until') ? Date.parse(q.get('until')!) : Infinity;
    const services = q.getAll('service_ids[]');
    return list
      .filter((x) => Date.parse(x.created_at) >= since && Date.parse(x.created_at) < until)
      .filter((x) => services.length === 0 || services.includes(x.service?.id))
      .sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
  }

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const u = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      fake.requests.push({ path: u.pathname, query: u.searchParams, status });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (u.pathname === '/v2/enqueue' && req.method === 'POST') {
      let body: any;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString());
      } catch {
        return send(400, { status: 'invalid event', message: 'Event object is invalid', errors: ['Malformed JSON'] });
      }
      if (limited > 0) {
        limited--;
        return send(429, { status: 'throttle event', message: 'Requests for this service are arriving too quickly.' }, { 'retry-after': String(reset) });
      }
      const errors: string[] = [];
      if (body.routing_key !== routingKey) errors.push("'routing_key' is invalid");
      if (!['trigger', 'acknowledge', 'resolve'].includes(body.event_action)) errors.push("'event_action' is invalid");
      if (body.event_action === 'trigger') {
        if (!body.payload?.summary) errors.push("'payload.summary' is missing or blank");
        if (!body.payload?.source) errors.push("'payload.source' is missing or blank");
        if (!['critical', 'error', 'warning', 'info'].includes(body.payload?.severity)) errors.push("'payload.severity' is invalid");
      } else if (!body.dedup_key) errors.push("'dedup_key' is missing or blank");
      if (errors.length) return send(400, { status: 'invalid event', message: 'Event object is invalid', errors });
      const key = body.dedup_key ?? randomUUID();
      const status = body.event_action === 'trigger' ? 'triggered' : body.event_action === 'acknowledge' ? 'acknowledged' : 'resolved';
      const prior = fake.alerts.get(key);
      fake.alerts.set(key, { status, summary: body.payload?.summary ?? prior?.summary, severity: body.payload?.severity ?? prior?.severity, history: [...(prior?.history ?? []), body.event_action] });
      return send(202, { status: 'success', message: 'Event processed', dedup_key: key });
    }
    if (req.headers.authorization !== `Token token=${apiKey}`) return send(401, { error: { message: 'Unauthorized', code: 2006 } });
    if (limited > 0) {
      limited--;
      return send(429, { error: { message: 'Rate Limit Exceeded', code: 2020 } }, { 'ratelimit-limit': '960', 'ratelimit-remaining': '0', 'ratelimit-reset': String(reset) });
    }
    if (!String(req.headers.accept ?? '').includes('application/vnd.pagerduty+json;version=2')) return send(406, { error: { message: 'Not Acceptable' } });
    const limit = Math.min(Number(u.searchParams.get('limit') ?? 25), 100);
    const offset = Number(u.searchParams.get('offset') ?? 0);
    const page = (key: string, list: any[]) => send(200, { [key]: list.slice(offset, offset + limit), limit, offset, more: offset + limit < list.length, total: null });
    if (u.pathname === '/incidents') return page('incidents', window(fake.incidents, u.searchParams));
    if (u.pathname === '/log_entries') return page('log_entries', window(fake.logEntries, u.searchParams));
    if (u.pathname === '/abilities') return send(200, { abilities: ['teams', 'read_only_users'] });
    const svc = /^\/services\/([^/]+)$/.exec(u.pathname);
    if (svc) {
      const found = fake.incidents.find((i) => i.service.id === decodeURIComponent(svc[1]!)) ?? (svc[1] === 'PSVC001' ? { service: { id: 'PSVC001', summary: 'API' } } : null);
      return found ? send(200, { service: { id: found.service.id, name: found.service.summary } }) : send(404, { error: { message: 'Not Found', code: 2100 } });
    }
    return send(404, { error: { message: 'Not Found', code: 2100 } });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(fake, { url, close: () => new Promise<void>((r) => server.close(() => r())) }) as FakePagerduty;
}
