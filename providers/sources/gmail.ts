// Source `gmail` (polling): new messages in a Gmail mailbox (and, when asked, label changes),
// through the Gmail API's mailbox history.
//
// The first poll reads the mailbox's current historyId (users.getProfile) and starts there (with
// `initial_lookback`, it also emits the messages of that period). Each later poll asks
// users.history.list for the records after the stored historyId, page by page (pageToken /
// nextPageToken), and reads each added message's headers and snippet (users.messages.get,
// format=metadata). With `query`, only messages that also match the Gmail search are emitted
// (users.messages.list with the query, limited to the new messages' dates).
//
// A historyId is valid for about a week; an older one answers 404. Then the source resyncs: it
// reads the current historyId and lists the messages received since its last successful poll
// (`after:<time>`), so a long outage loses nothing; their dedupe keys make repeats no-ops.
//
// Cursor (JSON, committed with the events of the same poll):
//   { v: 1, history_id, synced_at: epoch ms, backoff?: n, blocked_until?: epoch ms }
// A poll cut short (max_messages, a rate limit, an error after some records) ends at the last
// history record it finished, so the next poll continues there. Events: `email.received`
// (dedupe `gmail:<message id>`) and `email.label_changed` (`gmail:<message id>:labels:<history id>`).

import type { EmittedEvent, PollResult, ProviderContext, SourceProvider } from '../types.js';
import { durationOr } from '../lib/duration.js';
import { pollWindowIssues } from '../lib/poll-window.js';
import { GOOGLE_AUTH_PROPERTIES, GOOGLE_SENSITIVE, GoogleClient, backoffMs, googleAuthIssues } from '../lib/google-api.js';
import { VendorApiError, baseUrl, partialPoll } from '../lib/vendor-http.js';
import { readCursor } from '../lib/cursor.js';

interface Cursor {
  v: 1;
  history_id?: string;
  synced_at?: number;
  backoff?: number;
  blocked_until?: number;
}

export const GMAIL_SCOPE = 'https://www.googleapis.com/auth/gmail.readonly';
const DEFAULT_HEADERS = ['From', 'To', 'Cc', 'Subject', 'Date', 'Message-ID', 'In-Reply-To', 'List-Id'];
const EVENTS = ['email.received', 'email.label_changed'];
const DEFAULT_MAX_MESSAGES = 100;
const DEFAULT_MAX_PAGES = 10;
/** a resync reads from a little before the last poll: clocks differ, and repeats are deduped */
const RESYNC_SLACK_S = 300;

interface GmailMessage {
  id: string;
  threadId: string;
  labelIds?: string[];
  snippet?: string;
  historyId?: string;
  internalDate?: string;
  payload?: { headers?: Array<{ name: string; value: string }> };
}

interface HistoryRecord {
  id: string;
  messagesAdded?: Array<{ message: { id: string; threadId: string; labelIds?: string[] } }>;
  labelsAdded?: Array<{ message: { id: string; threadId: string }; labelIds: string[] }>;
  labelsRemoved?: Array<{ message: { id: string; threadId: string }; labelIds: string[] }>;
}

function parseCursor(raw: string | null): Cursor {
  return readCursor<Cursor>(raw, () => ({ v: 1 }), (c) => c.history_id === undefined || /^\d+$/.test(String(c.history_id)));
}

const api = (config: Record<string, unknown>) => `${baseUrl(config.base_url, 'https://gmail.googleapis.com')}/gmail/v1/users/${encodeURIComponent(String(config.user ?? 'me'))}`;

/** `Jane Doe <jane@example.com>` -> { name, email } (as OrgLoop's gog connector shapes it). */
export function parseAddress(raw: string): { name: string; email: string } {
  const m = /^\s*(.*?)\s*<([^>]+)>\s*$/.exec(raw);
  if (m) return { name: m[1]!.replace(/^"(.*)"$/, '$1'), email: m[2]!.trim() };
  return { name: '', email: raw.trim() };
}

/** Splits an address list on commas outside quotes and angle brackets. */
export function parseAddressList(raw: string): Array<{ name: string; email: string }> {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let angle = false;
  for (const ch of raw) {
    if (ch === '"') quoted = !quoted;
    else if (ch === '<') angle = true;
    else if (ch === '>') angle = false;
    if (ch === ',' && !quoted && !angle) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter(Boolean).map(parseAddress);
}

export function messageEvent(m: GmailMessage, user: string): EmittedEvent {
  const headers: Record<string, string> = {};
  for (const h of m.payload?.headers ?? []) if (!(h.name.toLowerCase() in headers)) headers[h.name.toLowerCase()] = h.value;
  const from = parseAddress(headers.from ?? '');
  const received = m.internalDate && /^\d+$/.test(m.internalDate) ? new Date(Number(m.internalDate)).toISOString() : undefined;
  const url = `https://mail.google.com/mail/u/${user === 'me' ? '0' : encodeURIComponent(user)}/#all/${m.threadId}`;
  return {
    type: 'resource.changed',
    dedupe_key: `gmail:${m.id}`,
    time: received,
    provenance: { platform: 'gmail', platform_event: 'email.received', author: from.email || undefined, author_type: 'external', url },
    payload: {
      message_id: m.id,
      thread_id: m.threadId,
      subject: headers.subject ?? '',
      title: headers.subject ?? '',
      from,
      to: parseAddressList(headers.to ?? ''),
      cc: parseAddressList(headers.cc ?? ''),
      date: headers.date ?? received ?? '',
      labels: m.labelIds ?? [],
      snippet: m.snippet ?? '',
      headers,
      internal_date: received ?? null,
      history_id: m.historyId ?? null,
      url,
    },
  };
}

function labelEvent(record: HistoryRecord, messageId: string, threadId: string, added: string[], removed: string[], user: string): EmittedEvent {
  return {
    type: 'resource.changed',
    dedupe_key: `gmail:${messageId}:labels:${record.id}`,
    provenance: { platform: 'gmail', platform_event: 'email.label_changed', author_type: 'system', url: `https://mail.google.com/mail/u/${user === 'me' ? '0' : encodeURIComponent(user)}/#all/${threadId}` },
    payload: { message_id: messageId, thread_id: threadId, labels_added: added, labels_removed: removed, history_id: record.id },
  };
}

class GmailPoll {
  readonly client: GoogleClient;
  readonly base: string;
  readonly user: string;
  readonly wanted: Set<string>;
  constructor(
    readonly ctx: ProviderContext,
    readonly backoff: number,
  ) {
    this.client = new GoogleClient(ctx.config, GMAIL_SCOPE, ctx.signal);
    this.base = api(ctx.config);
    this.user = String(ctx.config.user ?? 'me');
    this.wanted = new Set(Array.isArray(ctx.config.events) && ctx.config.events.length ? (ctx.config.events as string[]) : ['email.received']);
  }

  get<T>(what: string, path: string, params: Record<string, string | string[] | undefined>): Promise<T> {
    const u = new URL(this.base + path);
    for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) u.searchParams.append(k, x);
    return this.client.get<T>(what, u.toString(), backoffMs(this.backoff + 1));
  }

  async profileHistoryId(): Promise<string> {
    const p = await this.get<{ historyId?: string }>('read the mailbox profile', '/profile', {});
    if (!p.historyId) throw new VendorApiError('Google', 200, 'Gmail profile has no historyId', false);
    return String(p.historyId);
  }

  /** A message's headers and snippet; undefined when it is gone (deleted since). */
  async message(id: string): Promise<GmailMessage | undefined> {
    const headers = Array.isArray(this.ctx.config.headers) && this.ctx.config.headers.length ? (this.ctx.config.headers as string[]) : DEFAULT_HEADERS;
    try {
      return await this.get<GmailMessage>('read a message', `/messages/${encodeURIComponent(id)}`, { format: 'metadata', metadataHeaders: headers });
    } catch (err) {
      if (err instanceof VendorApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** Ids of messages matching `q`, newest first, up to `max` (users.messages.list, paged). */
  async search(q: string, max: number): Promise<string[]> {
    const ids: string[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < DEFAULT_MAX_PAGES && ids.length < max; page++) {
      const r = await this.get<{ messages?: Array<{ id: string }>; nextPageToken?: string }>('search messages', '/messages', { q, maxResults: String(Math.min(500, max)), pageToken });
      for (const m of r.messages ?? []) ids.push(m.id);
      if (!r.nextPageToken) break;
      pageToken = r.nextPageToken;
    }
    return ids.slice(0, max);
  }

  /** Emit-worthy: not a draft; sent mail only with include_sent. */
  keep(m: GmailMessage): boolean {
    const labels = m.labelIds ?? [];
    if (labels.includes('DRAFT')) return false;
    if (labels.includes('SENT') && !labels.includes('INBOX') && this.ctx.config.include_sent !== true) return false;
    return true;
  }

  /** Of `messages`, those the configured query also finds (one search bounded by their dates). */
  async matching(messages: GmailMessage[]): Promise<GmailMessage[]> {
    const query = typeof this.ctx.config.query === 'string' ? this.ctx.config.query.trim() : '';
    if (!query || messages.length === 0) return messages;
    const oldest = Math.min(...messages.map((m) => Number(m.internalDate ?? Date.now())));
    const found = new Set(await this.search(`(${query}) after:${Math.floor(oldest / 1000) - 1}`, 2000));
    return messages.filter((m) => found.has(m.id));
  }

  /** Messages received since `sinceMs` (resync and initial lookback), oldest first. */
  async since(sinceMs: number, max: number): Promise<EmittedEvent[]> {
    const query = typeof this.ctx.config.query === 'string' && this.ctx.config.query.trim() ? `(${this.ctx.config.query.trim()}) ` : '';
    const ids = await this.search(`${query}after:${Math.floor(sinceMs / 1000)}`, max);
    const out: EmittedEvent[] = [];
    for (const id of ids.reverse()) {
      const m = await this.message(id);
      if (m && this.keep(m)) out.push(messageEvent(m, this.user));
    }
    return out;
  }
}

async function poll(ctx: ProviderContext, raw: string | null): Promise<PollResult> {
  const c = parseCursor(raw);
  const now = Date.now();
  if (c.blocked_until && c.blocked_until > now) return { events: [], cursor: raw, retryAfterMs: c.blocked_until - now };
  const g = new GmailPoll(ctx, c.backoff ?? 0);
  const maxMessages = typeof ctx.config.max_messages === 'number' ? ctx.config.max_messages : DEFAULT_MAX_MESSAGES;
  const events: EmittedEvent[] = [];
  // where the next poll starts: moves only past history records whose events are in `events`
  let next: Cursor = { v: 1, history_id: c.history_id, synced_at: c.synced_at };
  try {
    if (!c.history_id) {
      // the starting point first, so mail arriving while the lookback is read is in the history
      const start = await g.profileHistoryId();
      const lookback = durationOr(ctx.config.initial_lookback, 0);
      if (lookback > 0) events.push(...(await g.since(now - lookback, maxMessages)));
      return { events, cursor: JSON.stringify({ v: 1, history_id: start, synced_at: now }) };
    }
    let pageToken: string | undefined;
    let fetched = 0;
    const types = ['messageAdded', ...(g.wanted.has('email.label_changed') ? ['labelAdded', 'labelRemoved'] : [])];
    const label = typeof ctx.config.label === 'string' && ctx.config.label ? ctx.config.label : undefined;
    for (let page = 0; ; page++) {
      let r: { history?: HistoryRecord[]; nextPageToken?: string; historyId?: string };
      try {
        r = await g.get('list mailbox history', '/history', { startHistoryId: c.history_id, historyTypes: types, labelId: label, maxResults: '100', pageToken });
      } catch (err) {
        if (!(err instanceof VendorApiError && err.status === 404 && page === 0)) throw err;
        // the historyId expired: resync from the last successful poll
        ctx.log.warn(`gmail: history from ${c.history_id} is no longer available; resyncing messages since ${new Date(c.synced_at ?? now).toISOString()}`);
        const start = await g.profileHistoryId();
        events.push(...(await g.since((c.synced_at ?? now) - RESYNC_SLACK_S * 1000, Math.max(maxMessages, 500))));
        return { events, cursor: JSON.stringify({ v: 1, history_id: start, synced_at: now }) };
      }
      for (const record of r.history ?? []) {
        const added: GmailMessage[] = [];
        if (g.wanted.has('email.received')) {
          for (const a of record.messagesAdded ?? []) {
            const m = await g.message(a.message.id);
            fetched++;
            if (m && g.keep(m)) added.push(m);
          }
        }
        for (const m of await g.matching(added)) events.push(messageEvent(m, g.user));
        if (g.wanted.has('email.label_changed')) {
          const changes = new Map<string, { thread: string; added: string[]; removed: string[] }>();
          for (const x of record.labelsAdded ?? []) {
            const e = changes.get(x.message.id) ?? { thread: x.message.threadId, added: [], removed: [] };
            e.added.push(...x.labelIds);
            changes.set(x.message.id, e);
          }
          for (const x of record.labelsRemoved ?? []) {
            const e = changes.get(x.message.id) ?? { thread: x.message.threadId, added: [], removed: [] };
            e.removed.push(...x.labelIds);
            changes.set(x.message.id, e);
          }
          for (const [id, e] of changes) events.push(labelEvent(record, id, e.thread, e.added, e.removed, g.user));
        }
        next = { v: 1, history_id: record.id, synced_at: c.synced_at };
        if (fetched >= maxMessages) {
          ctx.log.warn(`gmail: more than ${maxMessages} new messages; the rest are read by the next poll`);
          return { events, cursor: JSON.stringify(next) };
        }
      }
      if (!r.nextPageToken) {
        // caught up: the mailbox's current historyId (past records of types we do not ask for)
        next = { v: 1, history_id: r.historyId ? String(r.historyId) : next.history_id, synced_at: now };
        break;
      }
      if (page + 1 >= (typeof ctx.config.max_pages === 'number' ? ctx.config.max_pages : DEFAULT_MAX_PAGES)) break;
      pageToken = r.nextPageToken;
    }
  } catch (err) {
    return partialPoll(err, events, next, c.backoff, ctx.log);
  }
  return { events, cursor: JSON.stringify(next) };
}

async function check(ctx: ProviderContext): Promise<{ ok: boolean; detail: string }> {
  try {
    const g = new GmailPoll(ctx, 0);
    const p = await g.get<{ emailAddress?: string; messagesTotal?: number }>('read the mailbox profile', '/profile', {});
    return { ok: true, detail: `reading ${p.emailAddress ?? 'the mailbox'} (${p.messagesTotal ?? '?'} messages) with the gmail.readonly scope` };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

function validate(config: Record<string, unknown>): Array<{ path: string; message: string }> {
  const issues = googleAuthIssues(config);
  issues.push(...pollWindowIssues(config));
  if (config.service_account_key && !config.subject && (config.user === undefined || config.user === 'me')) {
    issues.push({ path: 'subject', message: 'a service account reads a mailbox only for a Workspace user it acts for: set subject (domain-wide delegation)' });
  }
  return issues;
}

export const gmailSource: SourceProvider = {
  kind: 'source',
  name: 'gmail',
  description: 'Polls a Gmail mailbox for new messages (history.list from a stored historyId)',
  polling: true,
  platformEvents: EVENTS,
  configSchema: {
    type: 'object',
    properties: {
      ...GOOGLE_AUTH_PROPERTIES,
      user: { type: 'string', description: 'mailbox (default me: the authorized user)' },
      query: { type: 'string', description: 'Gmail search the messages must also match (is:important, from:x, label:y...)' },
      label: { type: 'string', description: 'only history of messages with this label id (INBOX, a user label id)' },
      events: { type: 'array', items: { type: 'string', enum: EVENTS }, description: 'default [email.received]' },
      headers: { type: 'array', items: { type: 'string' }, description: `headers read per message (default ${DEFAULT_HEADERS.join(', ')})` },
      include_sent: { type: 'boolean', description: 'emit messages you sent (default false)' },
      initial_lookback: { type: 'string', description: 'the first poll also emits the messages of this period (default 0: from now)' },
      max_messages: { type: 'integer', minimum: 1, maximum: 1000, description: 'messages read per poll (default 100); the rest wait for the next poll' },
      max_pages: { type: 'integer', minimum: 1, maximum: 100 },
      base_url: { type: 'string', description: 'API origin (default https://gmail.googleapis.com)' },
    },
    additionalProperties: false,
  },
  sensitive: GOOGLE_SENSITIVE,
  validate,
  poll,
  check,
};

export default gmailSource;
