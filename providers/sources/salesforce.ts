// Source `salesforce` (polling): records created and changed in Salesforce objects (Lead and
// Opportunity by default), by SOQL on SystemModstamp.
//
// Per object, each poll asks `SELECT <fields> FROM <Object> WHERE SystemModstamp >= <since>
// ORDER BY SystemModstamp, Id` and follows nextRecordsUrl. `since` then moves to the newest
// SystemModstamp read (not to "now": the org's clock and indexing decide what is visible), and a
// poll cut short by max_pages continues from the last record it read. Records at exactly `since`
// are read again next time; their dedupe keys make that a no-op.
//
// Events (`provenance.platform_event`, as the seed's sales routes filter):
//   <object>.created           created since the previous poll (key <object>:<Id>:created)
//   opportunity.closed_won     the stage changed since the previous poll to a won stage (also
//                              for a deal created already won: its close is what routes want)
//   opportunity.closed_lost    ... to a lost stage
//   opportunity.stage_changed  ... to an open stage (keys carry LastStageChangeDate)
//   <object>.updated           any other change (key <object>:<Id>:<SystemModstamp>)
//
// Cursor (JSON, committed with the events): { v: 1, objects: { <Object>: { since } },
// blocked_until? }. Auth: an access token (`token`), refreshed through OAuth with
// refresh_token + client_id (+ client_secret) when it expires; the refreshed token is kept in
// memory only.

import type { EmittedEvent, PollResult, ProviderContext, SourceProvider } from '../types.js';
import { durationOr } from '../lib/duration.js';
import { INITIAL_LOOKBACK_PROPERTY, pollWindowIssues } from '../lib/poll-window.js';
import { SOQL_NAME, SalesforceClient, soqlDateTime, type SalesforceConfig } from '../lib/salesforce-api.js';
import { RateLimitedError, baseUrl } from '../lib/vendor-http.js';
import { readCursor } from '../lib/cursor.js';

interface Cursor {
  v: 1;
  objects: Record<string, { since: string }>;
  blocked_until?: number;
}

const DEFAULT_OBJECTS = ['Lead', 'Opportunity'];
const DEFAULT_FIELDS: Record<string, string[]> = {
  Lead: ['Name', 'Company', 'Email', 'Title', 'Status', 'LeadSource', 'Industry', 'IsConverted'],
  Opportunity: ['Name', 'StageName', 'Amount', 'CloseDate', 'Probability', 'IsClosed', 'IsWon', 'AccountId', 'LastStageChangeDate'],
  Account: ['Name', 'Industry', 'Type', 'Website'],
  Contact: ['Name', 'Email', 'Title', 'AccountId'],
  Case: ['CaseNumber', 'Subject', 'Status', 'Priority', 'Origin', 'AccountId'],
};
const ALWAYS = ['Id', 'OwnerId', 'CreatedDate', 'LastModifiedById', 'SystemModstamp'];
const DEFAULT_MAX_PAGES = 5;

function parseCursor(raw: string | null): Cursor {
  return readCursor<Cursor>(raw, () => ({ v: 1, objects: {} }), (c) => !!c.objects && typeof c.objects === 'object');
}

export function objectsOf(config: Record<string, unknown>): string[] {
  return Array.isArray(config.objects) && config.objects.length ? (config.objects as string[]) : DEFAULT_OBJECTS;
}

function fieldsOf(config: Record<string, unknown>, object: string): string[] {
  const custom = (config.fields as Record<string, string[]> | undefined)?.[object];
  return [...new Set([...ALWAYS, ...(custom ?? DEFAULT_FIELDS[object] ?? ['Name'])])];
}

const at = (s: unknown) => (typeof s === 'string' ? Date.parse(s) : NaN);

/** The event for one record version; `prevSince` is where the previous poll of this object ended. */
export function recordEvent(object: string, r: Record<string, any>, prevSince: string, instance: string): EmittedEvent {
  const lower = object.toLowerCase();
  const since = Date.parse(prevSince);
  let name = `${lower}.updated`;
  let key = `${lower}:${r.Id}:${r.SystemModstamp}`;
  // A version never modified since its creation is the creation, whenever it is read again: the
  // query's `since` is whole seconds (SOQL), so records from that second come back, and those at
  // or before `since` were read by the previous poll (same key: a no-op), or missed by it (emitted).
  const created = at(r.CreatedDate) > since || (r.CreatedDate !== undefined && r.CreatedDate === r.SystemModstamp);
  const stageMoved = object === 'Opportunity' && (at(r.LastStageChangeDate) > since || (at(r.LastStageChangeDate) === since && r.LastStageChangeDate === r.SystemModstamp && !created));
  if (object === 'Opportunity' && r.IsClosed && (stageMoved || created)) {
    // a deal that closed in this window is its close, even when it was also created in it
    name = r.IsWon ? 'opportunity.closed_won' : 'opportunity.closed_lost';
    key = `${lower}:${r.Id}:stage:${r.LastStageChangeDate ?? r.SystemModstamp}`;
  } else if (created) {
    name = `${lower}.created`;
    key = `${lower}:${r.Id}:created`;
  } else if (stageMoved) {
    name = 'opportunity.stage_changed';
    key = `${lower}:${r.Id}:stage:${r.LastStageChangeDate}`;
  }
  const { attributes: _attributes, ...fields } = r;
  const url = `${instance}/lightning/r/${object}/${r.Id}/view`;
  return {
    type: 'resource.changed',
    dedupe_key: key,
    time: r.SystemModstamp ? new Date(r.SystemModstamp).toISOString() : undefined,
    provenance: { platform: 'salesforce', platform_event: name, author: r.LastModifiedById ?? undefined, author_type: 'user', url },
    payload: { object, record_id: r.Id, title: r.Name ?? r.Subject ?? r.CaseNumber ?? null, ...fields, url },
  };
}

async function poll(ctx: ProviderContext, raw: string | null): Promise<PollResult> {
  const c = parseCursor(raw);
  const now = Date.now();
  if (c.blocked_until && c.blocked_until > now) return { events: [], cursor: raw, retryAfterMs: c.blocked_until - now };
  const client = new SalesforceClient(ctx.config as SalesforceConfig, ctx.signal);
  const instance = baseUrl(ctx.config.instance_url, '');
  const maxPages = typeof ctx.config.max_pages === 'number' ? ctx.config.max_pages : DEFAULT_MAX_PAGES;
  const start = new Date(now - durationOr(ctx.config.initial_lookback, 0)).toISOString();
  const next: Cursor = { v: 1, objects: { ...c.objects } };
  const events: EmittedEvent[] = [];
  try {
    for (const object of objectsOf(ctx.config)) {
      const since = c.objects[object]?.since ?? start;
      const soql = `SELECT ${fieldsOf(ctx.config, object).join(', ')} FROM ${object} WHERE SystemModstamp >= ${soqlDateTime(since)} ORDER BY SystemModstamp ASC, Id ASC`;
      const { records, complete } = await client.query(soql, maxPages);
      for (const r of records) events.push(recordEvent(object, r, since, instance));
      const last = records.at(-1)?.SystemModstamp;
      next.objects[object] = { since: last ? new Date(last).toISOString() : since };
      if (!complete) ctx.log.warn(`more than ${maxPages} pages of ${object} changes: the rest are read by the next poll`);
    }
  } catch (err) {
    if (!(err instanceof RateLimitedError)) {
      if (events.length === 0) throw err;
      ctx.log.warn((err as Error).message);
      return { events, cursor: JSON.stringify(next) };
    }
    return { events, cursor: JSON.stringify({ ...next, blocked_until: err.retryAt }), retryAfterMs: Math.max(0, err.retryAt - Date.now()) };
  }
  return { events, cursor: JSON.stringify(next) };
}

async function check(ctx: ProviderContext): Promise<{ ok: boolean; detail: string }> {
  const client = new SalesforceClient(ctx.config as SalesforceConfig, ctx.signal);
  try {
    const version = (ctx.config.api_version as string) ?? 'v59.0';
    const limits = await client.get<{ DailyApiRequests?: { Max: number; Remaining: number } }>('read limits', `/services/data/${version}/limits`);
    for (const object of objectsOf(ctx.config)) await client.get(`describe ${object}`, `/services/data/${version}/sobjects/${object}/describe`);
    const d = limits.DailyApiRequests;
    return { ok: true, detail: `authenticated at ${ctx.config.instance_url}; ${objectsOf(ctx.config).join(', ')} readable${d ? `; ${d.Remaining} of ${d.Max} daily API requests left` : ''}` };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

function validate(config: Record<string, unknown>): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  objectsOf(config).forEach((o, i) => {
    if (!SOQL_NAME.test(o)) issues.push({ path: `objects.${i}`, message: `"${o}" is not an object API name` });
  });
  for (const [o, fields] of Object.entries((config.fields as Record<string, string[]>) ?? {})) {
    (fields ?? []).forEach((f, i) => {
      if (!SOQL_NAME.test(f)) issues.push({ path: `fields.${o}.${i}`, message: `"${f}" is not a field API name` });
    });
  }
  if (!config.token && !(config.refresh_token && config.client_id)) issues.push({ path: 'token', message: 'set token (an access token), or refresh_token with client_id (and client_secret)' });
  if (config.refresh_token && !config.client_id) issues.push({ path: 'client_id', message: 'a refresh_token needs the connected app client_id' });
  issues.push(...pollWindowIssues(config));
  return issues;
}

export const salesforceSource: SourceProvider = {
  kind: 'source',
  name: 'salesforce',
  description: 'Polls Salesforce objects (Lead, Opportunity...) by SOQL on SystemModstamp',
  polling: true,
  configSchema: {
    type: 'object',
    properties: {
      instance_url: { type: 'string', description: 'https://acme.my.salesforce.com' },
      token: { type: 'string', sensitive: true, description: 'access token (write "${SALESFORCE_TOKEN}")' },
      refresh_token: { type: 'string', sensitive: true, description: 'OAuth refresh token, used when the access token expires' },
      client_id: { type: 'string', description: 'connected app consumer key (for refresh)' },
      client_secret: { type: 'string', sensitive: true, description: 'connected app consumer secret (for refresh)' },
      login_url: { type: 'string', description: 'OAuth host (default https://login.salesforce.com; https://test.salesforce.com for sandboxes)' },
      api_version: { type: 'string', pattern: '^v\\d+\\.\\d$', description: 'REST API version (default v59.0)' },
      objects: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'object API names (default Lead, Opportunity)' },
      fields: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } }, description: 'fields per object, beyond Id, OwnerId, CreatedDate, LastModifiedById, SystemModstamp' },
      initial_lookback: INITIAL_LOOKBACK_PROPERTY,
      max_pages: { type: 'integer', minimum: 1, maximum: 100 },
    },
    required: ['instance_url'],
    additionalProperties: false,
  },
  sensitive: ['token', 'refresh_token', 'client_secret'],
  validate,
  poll,
  check,
};

export default salesforceSource;
