// A fake of Google's OAuth token endpoint, the Gmail API and the Calendar API on 127.0.0.1, as
// Google documents them (developers.google.com/gmail/api, /calendar/api, /identity/protocols/oauth2):
//
// - POST /token: the refresh-token grant (client id, secret and refresh token must match; 400
//   invalid_grant / 401 invalid_client) and the JWT-bearer grant for service accounts (RS256
//   signature checked with the account's public key, iss, aud = this endpoint, exp, scope).
//   Access tokens carry their scopes and expire (`expireTokens()` -> 401 UNAUTHENTICATED).
// - Gmail: users/me/profile, history (startHistoryId, historyTypes, labelId, maxResults,
//   pageToken; 404 notFound once the id is older than the kept history, `expireHistory()`),
//   messages (q with after:/before:/from:/subject:/label:/is:, maxResults, pageToken, newest
//   first) and messages/<id> (format=metadata with metadataHeaders).
// - Calendar: calendars/<id> and calendars/<id>/events (syncToken, which cannot be combined
//   with timeMin/timeMax/orderBy -> 400; 410 fullSyncRequired after `invalidateSyncTokens()`;
//   timeMin/timeMax, showDeleted, singleEvents, orderBy=startTime, maxResults, pageToken with
//   nextSyncToken on the last page only).
// - Rate limits: `rateLimit(n, '429' | '403')` answers the next n API calls with 429
//   rateLimitExceeded or 403 userRateLimitExceeded (optionally with Retry-After).

import { createVerify, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  snippet: string;
  internalDate: string;
  historyId: string;
  headers: Array<{ name: string; value: string }>;
}

export interface FakeCalendarEvent {
  id: string;
  status: 'confirmed' | 'tentative' | 'cancelled';
  summary: string;
  description?: string;
  location?: string;
  start: { dateTime?: string; date?: string };
  end: { dateTime?: string; date?: string };
  created: string;
  updated: string;
  htmlLink: string;
  organizer: { email: string };
  attendees?: Array<{ email: string; responseStatus: string }>;
  /** change sequence of the last change (sync tokens compare these) */
  seq: number;
}

interface HistoryRecord {
  id: string;
  kind: 'messageAdded' | 'labelAdded' | 'labelRemoved';
  message: FakeMessage;
  labelIds?: string[];
}

export interface FakeGoogle {
  url: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  email: string;
  /** a service account key file's JSON (its public key is what the fake checks signatures with) */
  serviceAccountKey: string;
  /** every API request (not /token): method, path, query */
  requests: Array<{ method: string; path: string; query: URLSearchParams }>;
  tokenGrants: string[];
  messages: FakeMessage[];
  events: Map<string, FakeCalendarEvent[]>;
  historyId(): string;
  deliver(m: { from: string; to?: string; subject: string; snippet?: string; labels?: string[]; at?: number; cc?: string }): FakeMessage;
  label(messageId: string, add: string[], remove?: string[]): void;
  expireHistory(): void;
  addEvent(calendar: string, e: { summary: string; start: Date; end?: Date; description?: string; location?: string }): FakeCalendarEvent;
  updateEvent(calendar: string, id: string, fields: Partial<Pick<FakeCalendarEvent, 'summary' | 'description' | 'location'>> & { start?: Date; end?: Date }): FakeCalendarEvent;
  cancelEvent(calendar: string, id: string): FakeCalendarEvent;
  invalidateSyncTokens(): void;
  expireTokens(): void;
  rateLimit(n: number, style?: '429' | '403', retryAfterS?: number): void;
  close(): Promise<void>;
}

const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const dec = (s: string): any => {
  try {
    return JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
};
const gerr = (code: number, status: string, reason: string, message: string, domain = 'global') => ({ error: { code, message, errors: [{ message, domain, reason }], status } });

// one service account key per test process: RSA key generation costs a second or more
let keys: { privateKey: string; publicKey: string } | undefined;

export async function startFakeGoogle(): Promise<FakeGoogle> {
  keys ??= generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const { privateKey, publicKey } = keys;
  const saEmail = 'orgloop@acme-project.iam.gserviceaccount.com';
  const issued = new Map<string, { scopes: string[]; expires: number }>();
  let historySeq = 41_000;
  let historyFloor = 0; // ids below this are no longer kept
  const history: HistoryRecord[] = [];
  let calSeq = 1;
  let syncFloor = 0; // sync tokens below this answer 410
  let limited: { n: number; style: '429' | '403'; retryAfter?: number } | undefined;
  let msgSeq = 0;
  let evSeq = 0;
  let url = '';

  const nextHistoryId = () => String((historySeq += 1 + Math.floor(Math.random() * 3))); // ids increase with gaps
  const header = (m: FakeMessage, name: string) => m.headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value ?? '';
  const stamp = () => new Date().toISOString();

  const fake = {
    tokenUrl: '',
    clientId: '1234-orgloop.apps.googleusercontent.com',
    clientSecret: 'GOCSPX-fake-secret',
    refreshToken: '1//0g-fake-refresh-token',
    email: 'ops@acme.com',
    serviceAccountKey: JSON.stringify({
      type: 'service_account',
      project_id: 'acme-project',
      private_key_id: 'k1',
      private_key: privateKey,
      client_email: saEmail,
      client_id: '1122',
    }),
    requests: [] as FakeGoogle['requests'],
    tokenGrants: [] as string[],
    messages: [] as FakeMessage[],
    events: new Map<string, FakeCalendarEvent[]>(),
    historyId: () => String(historySeq),
    deliver(m: { from: string; to?: string; subject: string; snippet?: string; labels?: string[]; at?: number; cc?: string }) {
      const id = (0x18c0000000 + ++msgSeq).toString(16);
      const at = m.at ?? Date.now();
      const msg: FakeMessage = {
        id,
        threadId: id,
        labelIds: m.labels ?? ['INBOX', 'UNREAD'],
        snippet: m.snippet ?? `${m.subject} …`,
        internalDate: String(at),
        historyId: nextHistoryId(),
        headers: [
          { name: 'From', value: m.from },
          { name: 'To', value: m.to ?? fake.email },
          ...(m.cc ? [{ name: 'Cc', value: m.cc }] : []),
          { name: 'Subject', value: m.subject },
          { name: 'Date', value: new Date(at).toUTCString() },
          { name: 'Message-ID', value: `<${id}@mail.example>` },
          { name: 'X-Not-Asked', value: 'x' },
        ],
      };
      fake.messages.push(msg);
      history.push({ id: msg.historyId, kind: 'messageAdded', message: msg });
      return msg;
    },
    label(messageId: string, add: string[], remove: string[] = []) {
      const m = fake.messages.find((x) => x.id === messageId)!;
      if (add.length) {
        m.labelIds = [...new Set([...m.labelIds, ...add])];
        history.push({ id: nextHistoryId(), kind: 'labelAdded', message: m, labelIds: add });
      }
      if (remove.length) {
        m.labelIds = m.labelIds.filter((l) => !remove.includes(l));
        history.push({ id: nextHistoryId(), kind: 'labelRemoved', message: m, labelIds: remove });
      }
    },
    expireHistory() {
      historyFloor = historySeq + 1;
      nextHistoryId();
    },
    addEvent(calendar: string, e: { summary: string; start: Date; end?: Date; description?: string; location?: string }) {
      const id = `ev${++evSeq}x${randomUUID().slice(0, 6)}`;
      const now = stamp();
      const ev: FakeCalendarEvent = {
        id,
        status: 'confirmed',
        summary: e.summary,
        description: e.description,
        location: e.location,
        start: { dateTime: e.start.toISOString() },
        end: { dateTime: (e.end ?? new Date(e.start.getTime() + 30 * 60_000)).toISOString() },
        created: now,
        updated: now,
        htmlLink: `https://www.google.com/calendar/event?eid=${id}`,
        organizer: { email: fake.email },
        attendees: [{ email: 'dev@acme.com', responseStatus: 'needsAction' }],
        seq: ++calSeq,
      };
      const list = fake.events.get(calendar) ?? [];
      list.push(ev);
      fake.events.set(calendar, list);
      return ev;
    },
    updateEvent(calendar: string, id: string, fields: Partial<Pick<FakeCalendarEvent, 'summary' | 'description' | 'location'>> & { start?: Date; end?: Date }) {
      const ev = fake.events.get(calendar)!.find((x) => x.id === id)!;
      const { start, end, ...rest } = fields;
      Object.assign(ev, rest);
      if (start) ev.start = { dateTime: start.toISOString() };
      if (end) ev.end = { dateTime: end.toISOString() };
      // Google's `updated` has millisecond precision; a real edit comes well after creation
      ev.updated = new Date(Math.max(Date.now(), Date.parse(ev.created) + 5000)).toISOString();
      ev.seq = ++calSeq;
      return ev;
    },
    cancelEvent(calendar: string, id: string) {
      const ev = fake.events.get(calendar)!.find((x) => x.id === id)!;
      ev.status = 'cancelled';
      ev.updated = new Date(Math.max(Date.now(), Date.parse(ev.created) + 5000)).toISOString();
      ev.seq = ++calSeq;
      return ev;
    },
    invalidateSyncTokens() {
      syncFloor = ++calSeq;
    },
    expireTokens() {
      issued.clear();
    },
    rateLimit(n: number, style: '429' | '403' = '429', retryAfterS?: number) {
      limited = { n, style, retryAfter: retryAfterS };
    },
  };

  function token(form: URLSearchParams): [number, unknown] {
    const grant = form.get('grant_type');
    let scopes: string[];
    if (grant === 'refresh_token') {
      if (form.get('client_id') !== fake.clientId || form.get('client_secret') !== fake.clientSecret) return [401, { error: 'invalid_client', error_description: 'The OAuth client was not found.' }];
      if (form.get('refresh_token') !== fake.refreshToken) return [400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }];
      // the user granted these scopes when the refresh token was issued
      scopes = ['https://www.googleapis.com/auth/gmail.readonly', 'https://www.googleapis.com/auth/calendar.readonly'];
    } else if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      const parts = (form.get('assertion') ?? '').split('.');
      if (parts.length !== 3) return [400, { error: 'invalid_grant', error_description: 'Invalid JWT.' }];
      const [h, c, s] = parts as [string, string, string];
      const head = dec(h);
      const claims = dec(c);
      const valid = head?.alg === 'RS256' && createVerify('RSA-SHA256').update(`${h}.${c}`).verify(publicKey, Buffer.from(s, 'base64url'));
      if (!valid) return [400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' }];
      const now = Math.floor(Date.now() / 1000);
      if (claims.iss !== saEmail) return [401, { error: 'invalid_client', error_description: 'The OAuth client was not found.' }];
      if (claims.aud !== fake.tokenUrl) return [400, { error: 'invalid_grant', error_description: 'Invalid JWT: Token must be a short-lived token and in a reasonable timeframe' }];
      if (!(claims.iat <= now + 60 && claims.exp > now && claims.exp - claims.iat <= 3600)) return [400, { error: 'invalid_grant', error_description: 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.' }];
      if (typeof claims.scope !== 'string' || !claims.scope) return [400, { error: 'invalid_scope', error_description: 'Invalid OAuth scope or ID token audience provided.' }];
      scopes = claims.scope.split(' ');
    } else return [400, { error: 'unsupported_grant_type', error_description: `Invalid grant_type: ${grant}` }];
    const access = `ya29.${randomUUID()}`;
    issued.set(access, { scopes, expires: Date.now() + 3599_000 });
    fake.tokenGrants.push(grant!);
    return [200, { access_token: access, expires_in: 3599, scope: scopes.join(' '), token_type: 'Bearer' }];
  }

  function matches(m: FakeMessage, q: string): boolean {
    for (const term of q.replace(/[()]/g, ' ').split(/\s+/).filter(Boolean)) {
      const [k, v] = term.includes(':') ? [term.slice(0, term.indexOf(':')).toLowerCase(), term.slice(term.indexOf(':') + 1).toLowerCase()] : ['', term.toLowerCase()];
      const date = Number(m.internalDate);
      if (k === 'after' && !(date >= Number(v) * 1000)) return false;
      else if (k === 'before' && !(date < Number(v) * 1000)) return false;
      else if (k === 'from' && !header(m, 'From').toLowerCase().includes(v)) return false;
      else if (k === 'subject' && !header(m, 'Subject').toLowerCase().includes(v)) return false;
      else if (k === 'label' && !m.labelIds.some((l) => l.toLowerCase() === v)) return false;
      else if (k === 'is' && !m.labelIds.some((l) => l.toLowerCase() === v)) return false;
      else if (k === '' && !`${header(m, 'Subject')} ${m.snippet}`.toLowerCase().includes(v)) return false;
    }
    return true;
  }

  function gmail(path: string, q: URLSearchParams): [number, unknown] {
    if (path === '/profile') return [200, { emailAddress: fake.email, messagesTotal: fake.messages.length, threadsTotal: fake.messages.length, historyId: String(historySeq) }];
    if (path === '/history') {
      const start = q.get('startHistoryId');
      if (!start || !/^\d+$/.test(start)) return [400, gerr(400, 'INVALID_ARGUMENT', 'invalidArgument', 'Invalid startHistoryId')];
      if (Number(start) < historyFloor) return [404, gerr(404, 'NOT_FOUND', 'notFound', 'Requested entity was not found.')];
      const types = q.getAll('historyTypes');
      const label = q.get('labelId');
      const max = Math.min(500, Number(q.get('maxResults') ?? 100));
      const from = q.get('pageToken') ? Number(dec(q.get('pageToken')!)?.o ?? 0) : 0;
      const all = history.filter((r) => Number(r.id) > Number(start) && (!types.length || types.includes(r.kind)) && (!label || r.message.labelIds.includes(label)));
      const page = all.slice(from, from + max);
      const ref = (m: FakeMessage) => ({ id: m.id, threadId: m.threadId });
      const records = page.map((r) =>
        r.kind === 'messageAdded'
          ? { id: r.id, messages: [ref(r.message)], messagesAdded: [{ message: { ...ref(r.message), labelIds: r.message.labelIds } }] }
          : { id: r.id, messages: [ref(r.message)], [r.kind === 'labelAdded' ? 'labelsAdded' : 'labelsRemoved']: [{ message: ref(r.message), labelIds: r.labelIds }] },
      );
      const body: Record<string, unknown> = { historyId: String(historySeq) };
      if (records.length) body.history = records;
      if (from + max < all.length) body.nextPageToken = enc({ o: from + max });
      return [200, body];
    }
    if (path === '/messages') {
      const query = q.get('q') ?? '';
      const max = Math.min(500, Number(q.get('maxResults') ?? 100));
      const from = q.get('pageToken') ? Number(dec(q.get('pageToken')!)?.o ?? 0) : 0;
      const all = fake.messages.filter((m) => matches(m, query)).sort((a, b) => Number(b.internalDate) - Number(a.internalDate));
      const body: Record<string, unknown> = { resultSizeEstimate: all.length };
      const page = all.slice(from, from + max);
      if (page.length) body.messages = page.map((m) => ({ id: m.id, threadId: m.threadId }));
      if (from + max < all.length) body.nextPageToken = enc({ o: from + max });
      return [200, body];
    }
    const one = /^\/messages\/([^/]+)$/.exec(path);
    if (one) {
      const m = fake.messages.find((x) => x.id === decodeURIComponent(one[1]!));
      if (!m) return [404, gerr(404, 'NOT_FOUND', 'notFound', 'Requested entity was not found.')];
      const wanted = q.getAll('metadataHeaders').map((h) => h.toLowerCase());
      const headers = q.get('format') === 'metadata' && wanted.length ? m.headers.filter((h) => wanted.includes(h.name.toLowerCase())) : m.headers;
      return [200, { id: m.id, threadId: m.threadId, labelIds: m.labelIds, snippet: m.snippet, historyId: m.historyId, internalDate: m.internalDate, sizeEstimate: 2048, payload: { mimeType: 'multipart/alternative', headers } }];
    }
    return [404, gerr(404, 'NOT_FOUND', 'notFound', 'Not Found')];
  }

  function calendar(id: string, rest: string, q: URLSearchParams): [number, unknown] {
    if (rest === '') return [200, { kind: 'calendar#calendar', id: id === 'primary' ? fake.email : id, summary: id === 'primary' ? fake.email : id, timeZone: 'UTC' }];
    if (rest !== '/events') return [404, gerr(404, 'NOT_FOUND', 'notFound', 'Not Found')];
    const list = fake.events.get(id) ?? [];
    const sync = q.get('syncToken');
    const page = q.get('pageToken') ? dec(q.get('pageToken')!) : undefined;
    const max = Math.min(2500, Number(q.get('maxResults') ?? 250));
    if (sync && (q.has('timeMin') || q.has('timeMax') || q.has('orderBy') || q.has('updatedMin') || q.has('q'))) return [400, gerr(400, 'INVALID_ARGUMENT', 'invalid', 'Sync token cannot be used with other filters')];
    if (q.get('orderBy') === 'startTime' && q.get('singleEvents') !== 'true') return [400, gerr(400, 'INVALID_ARGUMENT', 'invalid', 'The requested ordering is not available for the particular query.')];
    let since = -1;
    if (sync) {
      since = Number(dec(sync)?.s);
      if (!Number.isFinite(since)) return [400, gerr(400, 'INVALID_ARGUMENT', 'invalid', 'Invalid sync token value.')];
      if (since < syncFloor) return [410, gerr(410, 'GONE', 'fullSyncRequired', 'Sync token is no longer valid, a full sync is required.', 'calendar')];
    }
    // a listing sees the calendar as of its first page (the page token carries that point)
    const snapshot = page?.snap ?? calSeq;
    const timeMin = q.get('timeMin') ? Date.parse(q.get('timeMin')!) : -Infinity;
    const timeMax = q.get('timeMax') ? Date.parse(q.get('timeMax')!) : Infinity;
    const showDeleted = sync ? true : q.get('showDeleted') === 'true';
    let items = list.filter((e) => (!sync || (e.seq > since && e.seq <= snapshot)) && (showDeleted || e.status !== 'cancelled'));
    items = items.filter((e) => Date.parse(e.end.dateTime ?? e.end.date!) > timeMin && Date.parse(e.start.dateTime ?? e.start.date!) < timeMax);
    items.sort(q.get('orderBy') === 'startTime' ? (a, b) => Date.parse(a.start.dateTime!) - Date.parse(b.start.dateTime!) : (a, b) => (a.id < b.id ? -1 : 1));
    const from = page?.o ?? 0;
    const slice = items.slice(from, from + max).map(({ seq: _seq, ...e }) => (e.status === 'cancelled' && sync ? { id: e.id, status: e.status, updated: e.updated } : e));
    const body: Record<string, unknown> = { kind: 'calendar#events', summary: id, timeZone: 'UTC', updated: stamp(), items: slice };
    if (from + max < items.length) body.nextPageToken = enc({ o: from + max, snap: snapshot });
    else body.nextSyncToken = enc({ s: snapshot });
    return [200, body];
  }

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const u = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
      res.end(JSON.stringify(body));
    };
    if (u.pathname === '/token' && req.method === 'POST') {
      const [status, body] = token(new URLSearchParams(Buffer.concat(chunks).toString()));
      return send(status, body);
    }
    fake.requests.push({ method: req.method ?? 'GET', path: u.pathname, query: u.searchParams });
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const grant = auth ? issued.get(auth) : undefined;
    if (!grant || grant.expires < Date.now()) {
      return send(401, gerr(401, 'UNAUTHENTICATED', 'authError', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.'), { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' });
    }
    if (limited && limited.n > 0) {
      limited.n--;
      const headers: Record<string, string> = limited.retryAfter !== undefined ? { 'retry-after': String(limited.retryAfter) } : {};
      if (limited.style === '429') return send(429, gerr(429, 'RESOURCE_EXHAUSTED', 'rateLimitExceeded', 'Quota exceeded for quota metric \'Queries\' and limit \'Queries per minute per user\'.', 'usageLimits'), headers);
      return send(403, gerr(403, 'PERMISSION_DENIED', 'userRateLimitExceeded', 'User Rate Limit Exceeded', 'usageLimits'), headers);
    }
    const gm = /^\/gmail\/v1\/users\/([^/]+)(\/.*)$/.exec(u.pathname);
    if (gm) {
      if (!grant.scopes.some((s) => s.includes('gmail'))) return send(403, gerr(403, 'PERMISSION_DENIED', 'insufficientPermissions', 'Request had insufficient authentication scopes.'));
      const [status, body] = gmail(gm[2]!, u.searchParams);
      return send(status, body);
    }
    const cal = /^\/calendar\/v3\/calendars\/([^/]+)(\/events)?$/.exec(u.pathname);
    if (cal) {
      if (!grant.scopes.some((s) => s.includes('calendar'))) return send(403, gerr(403, 'PERMISSION_DENIED', 'insufficientPermissions', 'Request had insufficient authentication scopes.'));
      const [status, body] = calendar(decodeURIComponent(cal[1]!), cal[2] ?? '', u.searchParams);
      return send(status, body);
    }
    return send(404, gerr(404, 'NOT_FOUND', 'notFound', 'Not Found'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.tokenUrl = `${url}/token`;
  // a real key file names its token endpoint
  fake.serviceAccountKey = JSON.stringify({ ...JSON.parse(fake.serviceAccountKey), token_uri: fake.tokenUrl });
  return Object.assign(fake, {
    url,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  }) as FakeGoogle;
}
