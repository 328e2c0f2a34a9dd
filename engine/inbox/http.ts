// The executor's inbox API, OrgLoop's `/api/inbox/*` on the executor's address:
//   GET  /api/inbox/status?session_key=K   one key: {pending, route, actor, oldest_event_at, notified}
//   GET  /api/inbox/list                   keys with events waiting: {sessions: [...]}
//   POST /api/inbox/drain                  {session_key, limit?, delivery_id?} -> {events, remaining, continuation}
// The answers are `orgloop inbox status|drain --format json`'s. OrgLoop drains on a GET; a drain
// removes what it hands out, so here it is a POST behind the executor's rules for state-changing
// endpoints (engine/run/guard.ts: an allowed Host, no browser, JSON) and a proof: the console
// token, or the per-delivery token the executor sent with one of the key's notifications (the
// agent it woke may drain that key, and only that one). Reads answer to the Host and browser
// rules only, as the console's reads do.

import type http from 'node:http';
import type { OrgEvent } from '../../providers/types.js';
import type { Store } from '../../state/store.js';
import { Guard } from '../console/guard.js';
import { sendJson } from '../run/json-response.js';
import { bearerToken, checkStateChange, fromBrowser, type AllowedHosts, type CallbackTokens } from '../run/guard.js';
import { drainInbox, inboxStatus, type DrainOutput } from './drain.js';
import { isNotification } from './inbox.js';

export interface InboxRoutesDeps {
  store: Store;
  allowedHosts(): AllowedHosts;
  /** the console's bearer token (ORGLOOP_CONSOLE_TOKEN); null: only notification tokens drain */
  consoleToken: string | null;
  /** verifies the per-delivery tokens this executor (or a peer with the same key) sent */
  tokens: Pick<CallbackTokens, 'verify'>;
}

const PREFIX = '/api/inbox/';
const MAX_BODY = 16 * 1024;


async function readJson(req: http.IncomingMessage): Promise<{ ok: true; body: Record<string, unknown> } | { ok: false; status: number; error: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) return { ok: false, status: 413, error: `body over ${MAX_BODY} bytes` };
    chunks.push(c as Buffer);
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return { ok: false, status: 400, error: 'the body must be a JSON object' };
    return { ok: true, body };
  } catch (err) {
    return { ok: false, status: 400, error: `invalid JSON: ${(err as Error).message}` };
  }
}

/** A positive integer limit, or null for the route's inbox_max_batch; a string when invalid. */
function limitOf(v: unknown): number | null | string {
  if (v === undefined || v === null || v === '') return null;
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : `limit must be a positive integer (got ${JSON.stringify(v)})`;
}

export class InboxRoutes {
  private readonly console: Guard;

  constructor(private readonly d: InboxRoutesDeps) {
    this.console = new Guard({ token: d.consoleToken, hosts: d.allowedHosts });
  }

  /** Takes /api/inbox/...; false for any other path. */
  take(req: http.IncomingMessage, res: http.ServerResponse, path: string): boolean {
    if (!path.startsWith(PREFIX)) return false;
    this.handle(req, res, path.slice(PREFIX.length)).catch((err: Error) => {
      if (!res.headersSent) sendJson(res, 500, { error: `internal error: ${err.message}` });
      else res.destroy();
    });
    return true;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, what: string): Promise<void> {
    const refuse = (status: number, error: string) => {
      req.resume();
      sendJson(res, status, { error });
    };
    if (what === 'drain') {
      if (req.method !== 'POST') return refuse(405, 'use POST /api/inbox/drain with {"session_key": ...}: a drain removes what it hands out');
      const guard = checkStateChange(req, this.d.allowedHosts());
      if (!guard.ok) return refuse(guard.status, guard.error);
      const read = await readJson(req);
      if (!read.ok) return sendJson(res, read.status, { error: read.error });
      return this.drain(req, res, read.body);
    }
    if (what !== 'status' && what !== 'list') return refuse(404, `no such endpoint /api/inbox/${what} (status, list, drain)`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(405, `use GET /api/inbox/${what}`);
    if (!this.d.allowedHosts().allows(req.headers.host)) return refuse(421, `Host ${JSON.stringify(req.headers.host ?? '')} is not an allowed name for this executor`);
    const browser = fromBrowser(req);
    if (browser) return refuse(403, `requests from web pages are refused (${browser})`);
    req.resume();
    const url = new URL(req.url ?? '/', 'http://x');
    if (what === 'list') {
      const rows = await inboxStatus(this.d.store);
      return sendJson(res, 200, { sessions: rows.map((s) => ({ sessionKey: s.session_key, ...shown(s) })) });
    }
    const key = url.searchParams.get('session_key');
    if (!key) return sendJson(res, 400, { error: 'missing required parameter: session_key (GET /api/inbox/list lists the keys)' });
    const [one] = await inboxStatus(this.d.store, key);
    return sendJson(res, 200, { pending: one?.pending ?? 0, ...(one ? shown(one) : {}) });
  }

  private async drain(req: http.IncomingMessage, res: http.ServerResponse, body: Record<string, unknown>): Promise<void> {
    const key = body.session_key;
    if (typeof key !== 'string' || !key) return sendJson(res, 400, { error: 'the body names the session_key to drain' });
    const limit = limitOf(body.limit);
    if (typeof limit === 'string') return sendJson(res, 400, { error: limit });
    const denied = await this.proof(req, key, body.delivery_id);
    if (denied) return sendJson(res, denied.status, { error: denied.error });
    // The entries are deleted only once the answer is handed to the OS; a client gone before
    // that leaves them held, to be handed out again after the hold (as a killed CLI drain does).
    const write = (out: DrainOutput) =>
      new Promise<void>((resolve, reject) => {
        res.once('finish', resolve);
        res.once('close', () => (res.writableFinished ? resolve() : reject(new Error('the client went away before the batch was written'))));
        sendJson(res, 200, out);
      });
    await drainInbox(this.d.store, key, limit, write);
  }

  /** The console token, or the token sent with a notification of this key; null when proven. */
  private async proof(req: http.IncomingMessage, key: string, deliveryId: unknown): Promise<{ status: number; error: string } | null> {
    const token = bearerToken(req);
    if (!token) return { status: 401, error: 'a drain needs a token (Authorization: Bearer <the console token, or the token sent with the notification, with its delivery_id>)' };
    if (this.console.matches(token)) return null;
    if (typeof deliveryId !== 'string' || !deliveryId) return { status: 401, error: 'the token is not the console token; a notification token needs the notification\'s delivery_id' };
    const refused = { status: 401, error: `the token does not match a notification of inbox ${JSON.stringify(key)}` };
    const d = await this.d.store.delivery(deliveryId);
    if (!d || !this.d.tokens.verify(token, d.actor, d.id)) return refused;
    const stored = await this.d.store.event(d.event_id);
    const ev = stored ? (JSON.parse(stored.event_json) as OrgEvent) : null;
    if (!ev || !isNotification(ev) || (ev.payload as { session_key?: unknown }).session_key !== key) return refused;
    return null;
  }
}

function shown(s: { route: string; actor: string; oldest_enqueued_at: number | null; notified: boolean; pending: number }) {
  return { pending: s.pending, route: s.route, actor: s.actor, oldest_event_at: s.oldest_enqueued_at === null ? null : new Date(s.oldest_enqueued_at).toISOString(), notified: s.notified };
}
