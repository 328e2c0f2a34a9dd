// Source `http-poll` (polling): any JSON list API as a YAML block, for the departments without a
// connector of their own (Intercom, HubSpot, Datadog, Greenhouse, Stripe...).
//
// Each poll GETs `url` (with `query`, `headers`, `auth`), takes the list at `items` (a dotted
// path; empty for a body that is the list), and emits one event per item with the dedupe key
// `<id>` or `<id>:<version>` (so a changed item emits again when `version` is set). Pages follow
// `pagination.style`:
//   link    the `Link: <...>; rel="next"` header (same origin as `url` only: credentials are
//           never sent to another host)
//   cursor  a value at `cursor_path` in the body, sent back as the `cursor_param` query parameter
//   page    a page number in `page_param` (from `start`), until a page comes back short or empty
//   none    one request
// Incremental reads: with `since`, the newest value at `since.from` among the items read becomes
// the cursor and is sent as the `since.param` query parameter on the next poll.
//
// Cursor (JSON, committed with the events): { v: 1, since?, blocked_until? }. A 429/503 with
// Retry-After returns the pages already read (their `since` included) and waits.

import type { EmittedEvent, PollResult, ProviderContext, SourceProvider } from '../types.js';
import { getPath } from '../lib/path.js';
import { renderTemplateText, templatePieces } from '../lib/template.js';
import { renderUrl } from '../lib/template-position.js';
import { RateLimitedError, vendorJson } from '../lib/vendor-http.js';
import { nextLink } from '../lib/github-api.js';
import { readCursor } from '../lib/cursor.js';

interface Cursor {
  v: 1;
  since?: string;
  blocked_until?: number;
}

const DEFAULT_MAX_PAGES = 10;

function parseCursor(raw: string | null): Cursor {
  return readCursor<Cursor>(raw, () => ({ v: 1 }));
}

const path = (p: unknown) => (typeof p === 'string' && p ? p.split('.') : []);
const at = (value: unknown, p: unknown) => (path(p).length ? getPath(value, path(p)) : value);

function authHeaders(config: Record<string, any>): { headers: Record<string, string>; query: Record<string, string> } {
  const headers: Record<string, string> = { ...(config.headers ?? {}) };
  const query: Record<string, string> = {};
  const a = config.auth ?? {};
  if (a.bearer) headers.authorization = `Bearer ${a.bearer}`;
  if (a.basic) headers.authorization = `Basic ${Buffer.from(`${a.basic.username ?? ''}:${a.basic.password ?? ''}`).toString('base64')}`;
  if (a.header?.name) headers[String(a.header.name).toLowerCase()] = String(a.header.value ?? '');
  if (a.query?.name) query[a.query.name] = String(a.query.value ?? '');
  return { headers, query };
}

/** Bigger of two `since` values: numbers numerically, ISO dates by time, other text by order. */
function newer(a: string | undefined, b: string): string {
  if (a === undefined) return b;
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return nb > na ? b : a;
  const da = Date.parse(a);
  const db = Date.parse(b);
  if (!Number.isNaN(da) && !Number.isNaN(db)) return db > da ? b : a;
  return b > a ? b : a;
}

/**
 * The event's link: a template that is one tag is the item's own URL; otherwise the item's values
 * are encoded for their place in the URL (`/tickets/{{id}}` with an id of `../admin` stays one
 * segment), and a URL that cannot be built that way is left out.
 */
function itemUrl(template: string, item: unknown): string | undefined {
  const pieces = templatePieces(template);
  if (pieces.length === 1 && typeof pieces[0] !== 'string') return renderTemplateText(template, item);
  const r = renderUrl(template, item);
  return r.ok ? r.text : undefined;
}

export function itemEvent(config: Record<string, any>, item: unknown): EmittedEvent | null {
  const id = at(item, config.id);
  if (id === undefined || id === null || id === '') return null;
  const version = config.version ? at(item, config.version) : undefined;
  const ev = config.event ?? {};
  const platformEvent = typeof ev.type === 'string' && ev.type ? renderTemplateText(ev.type, item) : `${config.platform ?? 'http'}.item`;
  const url = ev.url ? itemUrl(ev.url, item) : undefined;
  const author = ev.author ? renderTemplateText(ev.author, item) : undefined;
  const time = ev.time ? at(item, ev.time) : undefined;
  return {
    type: 'resource.changed',
    dedupe_key: version === undefined || version === null ? String(id) : `${id}:${version}`,
    time: typeof time === 'string' && !Number.isNaN(Date.parse(time)) ? new Date(time).toISOString() : undefined,
    provenance: { platform: config.platform ?? new URL(config.url).hostname, platform_event: platformEvent, author: author || undefined, url: url || undefined },
    payload: item && typeof item === 'object' && !Array.isArray(item) ? (item as Record<string, unknown>) : { value: item },
  };
}

async function poll(ctx: ProviderContext, raw: string | null): Promise<PollResult> {
  const config = ctx.config as Record<string, any>;
  const c = parseCursor(raw);
  const now = Date.now();
  if (c.blocked_until && c.blocked_until > now) return { events: [], cursor: raw, retryAfterMs: c.blocked_until - now };
  const p = config.pagination ?? {};
  const style: string = p.style ?? 'none';
  const maxPages: number = p.max_pages ?? DEFAULT_MAX_PAGES;
  const { headers, query: authQuery } = authHeaders(config);
  const base = new URL(config.url);
  for (const [k, v] of Object.entries({ ...(config.query ?? {}), ...authQuery })) base.searchParams.set(k, String(v));
  const since = c.since ?? (config.since?.initial !== undefined ? String(config.since.initial) : undefined);
  if (config.since?.param && since !== undefined) base.searchParams.set(config.since.param, since);

  const events: EmittedEvent[] = [];
  let newest = c.since;
  let url: string | null = base.toString();
  let page = typeof p.start === 'number' ? p.start : 1;
  if (style === 'page') {
    const u = new URL(url);
    u.searchParams.set(p.page_param ?? 'page', String(page));
    url = u.toString();
  }
  try {
    for (let n = 0; url && n < maxPages; n++) {
      const res: { headers: Headers; data: unknown } = await vendorJson<unknown>(config.platform ?? base.hostname, `GET ${base.pathname}`, url, { headers, signal: ctx.signal });
      const list = at(res.data, config.items);
      const items = Array.isArray(list) ? list : [];
      for (const item of items) {
        const e = itemEvent(config, item);
        if (e) events.push(e);
        if (config.since?.from) {
          const v = at(item, config.since.from);
          if (v !== undefined && v !== null && v !== '') newest = newer(newest, String(v));
        }
      }
      url = null;
      if (style === 'link') {
        const next = nextLink(res.headers.get('link'));
        if (next && new URL(next, base).origin === base.origin) url = new URL(next, base).toString();
      } else if (style === 'cursor') {
        const next = at(res.data, p.cursor_path);
        if (next !== undefined && next !== null && next !== '' && items.length > 0) {
          const u = new URL(base);
          u.searchParams.set(p.cursor_param ?? 'cursor', String(next));
          url = u.toString();
        }
      } else if (style === 'page') {
        const size = typeof p.size === 'number' ? p.size : undefined;
        if (items.length > 0 && (size === undefined || items.length >= size)) {
          const u = new URL(base);
          u.searchParams.set(p.page_param ?? 'page', String(++page));
          url = u.toString();
        }
      }
    }
  } catch (err) {
    if (!(err instanceof RateLimitedError)) {
      if (events.length === 0) throw err;
      ctx.log.warn((err as Error).message);
      return { events, cursor: JSON.stringify({ v: 1, since: newest }) };
    }
    return { events, cursor: JSON.stringify({ v: 1, since: newest, blocked_until: err.retryAt }), retryAfterMs: Math.max(0, err.retryAt - Date.now()) };
  }
  if (url) ctx.log.warn(`more than ${maxPages} pages from ${base.origin}${base.pathname}: the rest are read by the next poll (raise pagination.max_pages)`);
  return { events, cursor: JSON.stringify({ v: 1, since: newest }) };
}

async function check(ctx: ProviderContext): Promise<{ ok: boolean; detail: string }> {
  try {
    const r = await poll({ ...ctx, config: { ...ctx.config, pagination: { ...(ctx.config.pagination ?? {}), max_pages: 1 } } }, null);
    return { ok: true, detail: `${new URL(ctx.config.url).origin} answered; ${r.events.length} item(s) on the first page` };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

function validate(config: Record<string, any>): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  try {
    const u = new URL(String(config.url));
    if (!/^https?:$/.test(u.protocol)) issues.push({ path: 'url', message: 'must be an http(s) URL' });
  } catch {
    issues.push({ path: 'url', message: 'must be an absolute http(s) URL' });
  }
  const p = config.pagination ?? {};
  if (p.style === 'cursor' && !p.cursor_path) issues.push({ path: 'pagination.cursor_path', message: 'cursor pagination needs cursor_path (where the next cursor is in the response)' });
  if (config.since && (!config.since.param || !config.since.from)) issues.push({ path: 'since', message: 'since needs param (the query parameter) and from (the item field)' });
  return issues;
}

const templ = { type: 'string' };
export const httpPollSource: SourceProvider = {
  kind: 'source',
  name: 'http-poll',
  description: 'Polls any JSON list API (URL, auth, pagination, items path, id, event names)',
  polling: true,
  configSchema: {
    type: 'object',
    properties: {
      url: { type: 'string' },
      platform: { type: 'string', description: 'provenance.platform (default the URL host)' },
      headers: { type: 'object', additionalProperties: { type: 'string' } },
      query: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
      auth: {
        type: 'object',
        properties: {
          bearer: { type: 'string', sensitive: true },
          basic: { type: 'object', properties: { username: { type: 'string' }, password: { type: 'string', sensitive: true } }, additionalProperties: false },
          header: { type: 'object', properties: { name: { type: 'string' }, value: { type: 'string', sensitive: true } }, required: ['name', 'value'], additionalProperties: false },
          query: { type: 'object', properties: { name: { type: 'string' }, value: { type: 'string', sensitive: true } }, required: ['name', 'value'], additionalProperties: false },
        },
        additionalProperties: false,
      },
      items: { type: 'string', description: 'dotted path to the list in the response (empty: the body is the list)' },
      id: { type: 'string', description: 'dotted path to the item id (dedupe)' },
      version: { type: 'string', description: 'dotted path to a version (updated_at...): a changed item emits again' },
      event: { type: 'object', properties: { type: templ, url: templ, author: templ, time: { type: 'string' } }, additionalProperties: false },
      pagination: {
        type: 'object',
        properties: {
          style: { enum: ['none', 'link', 'cursor', 'page'] },
          cursor_path: { type: 'string' },
          cursor_param: { type: 'string' },
          page_param: { type: 'string' },
          start: { type: 'integer' },
          size: { type: 'integer', minimum: 1 },
          max_pages: { type: 'integer', minimum: 1, maximum: 1000 },
        },
        additionalProperties: false,
      },
      since: {
        type: 'object',
        properties: { param: { type: 'string' }, from: { type: 'string' }, initial: { type: ['string', 'number'] } },
        additionalProperties: false,
      },
    },
    required: ['url', 'id'],
    additionalProperties: false,
  },
  sensitive: ['auth.bearer', 'auth.basic.password', 'auth.header.value', 'auth.query.value'],
  validate,
  poll,
  check,
};

export default httpPollSource;
