// Inbox batching's store operations (migration 005). Each is written once, as a generator that
// yields its statements and reads their results; each dialect drives it inside one transaction of
// its own (SQLite synchronously in its write batch, Postgres with awaits in BEGIN/COMMIT), so the
// two stores cannot drift apart.

import type { IngestItem } from './runtime-plane.js';
import { INSERT_EVENT, INSERT_PENDING, eventValues, pendingValues } from './sql.js';

export type Step =
  | { kind: 'run'; sql: string; args: unknown[] }
  | { kind: 'all'; sql: string; args: unknown[] }
  /** new work for any executor to claim (Postgres: NOTIFY; SQLite executors poll) */
  | { kind: 'wake' };

export type Steps<T> = Generator<Step, T, any>;

export interface InboxEnqueue {
  /** the inbox route's delivery: completed here, fenced by its lease */
  delivery_id: string;
  owner: string;
  session_key: string;
  route: string;
  actor: string;
  event_id: string;
  /** the event as the route's transforms left it */
  event_json: string;
  ttl_ms: number;
  /** the route's then.config rendered for this event (kept for the key's notifications) */
  route_config: string;
  max_batch: number;
  /** the notification to queue when none is outstanding for the key */
  notify: IngestItem;
}

export interface InboxEntry {
  id: number;
  event_json: string;
  enqueued_at: number;
}

export interface InboxSessionInfo {
  session_key: string;
  route: string;
  actor: string;
  route_config: string;
  max_batch: number;
  /** entries not expired and not being handed out */
  pending: number;
  oldest_enqueued_at: number | null;
  /** a notification is queued, running or was delivered and not yet followed by a drain */
  notified: boolean;
  /** the key's current notification; an older one still queued has been superseded */
  notify_delivery_id: string | null;
}

/** The inbox part of the runtime plane. */
export interface Inbox {
  /** One transaction: complete the delivery (false: its lease was lost, nothing written), add the entry, notify when none is outstanding. */
  inboxEnqueue(e: InboxEnqueue): Promise<{ held: boolean; notified: boolean }>;
  /** Marks up to `limit` of the key's oldest entries as handed out by `token` for `holdMs`; returns them and how many are left. */
  inboxTake(key: string, limit: number, holdMs: number, token: string): Promise<{ entries: InboxEntry[]; remaining: number }>;
  /** The entries handed out by `token` were written: delete them; re-notify (with `notify`) when entries remain and no notification is outstanding. */
  inboxAck(key: string, token: string, notify: IngestItem | null): Promise<{ remaining: number; notified: boolean }>;
  inboxSession(key: string): Promise<InboxSessionInfo | null>;
  inboxSessions(): Promise<InboxSessionInfo[]>;
}

/** Expired entries go a bounded number at a time, on the way through enqueues and drains. */
const EXPIRE = 'DELETE FROM inbox_entries WHERE id IN (SELECT id FROM inbox_entries WHERE expires_at <= ? ORDER BY expires_at LIMIT 100)';
const LIVE = '(taken_until IS NULL OR taken_until < ?)';
const OUTSTANDING = `SELECT d.status FROM inbox_sessions s JOIN deliveries d ON d.id = s.notify_delivery_id WHERE s.session_key = ?`;
/** a notification still to be sent, or sent and not yet followed by a drain */
const WAITING = new Set(['pending', 'leased', 'retry']);

function* queueNotification(key: string, n: IngestItem, now: number): Steps<void> {
  const ts = new Date(now).toISOString();
  yield { kind: 'run', sql: INSERT_EVENT, args: eventValues(n.event) };
  for (const d of n.deliveries) yield { kind: 'run', sql: INSERT_PENDING, args: pendingValues(d, n.event.id, now, ts) };
  yield { kind: 'run', sql: 'UPDATE inbox_sessions SET notify_delivery_id = ? WHERE session_key = ?', args: [n.deliveries[0]!.id, key] };
  yield { kind: 'wake' };
}

function* outstanding(key: string): Steps<string | null> {
  const rows: Array<{ status: string }> = yield { kind: 'all', sql: OUTSTANDING, args: [key] };
  return rows[0]?.status ?? null;
}

export function* enqueueSteps(e: InboxEnqueue, now: number): Steps<{ held: boolean; notified: boolean }> {
  const ts = new Date(now).toISOString();
  const held: number = yield {
    kind: 'run',
    sql: `UPDATE deliveries SET status = 'delivered', lease_until = NULL, last_error = NULL, updated_at = ? WHERE id = ? AND lease_owner = ? AND status = 'leased'`,
    args: [ts, e.delivery_id, e.owner],
  };
  if (held !== 1) return { held: false, notified: false };
  yield {
    kind: 'run',
    sql: `INSERT INTO inbox_entries (session_key, delivery_id, route, event_id, event_json, enqueued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (delivery_id) DO NOTHING`,
    args: [e.session_key, e.delivery_id, e.route, e.event_id, e.event_json, now, now + e.ttl_ms],
  };
  yield { kind: 'run', sql: EXPIRE, args: [now] };
  // the first route to fill a key's inbox is the one its notifications go through, as OrgLoop's
  yield {
    kind: 'run',
    sql: `INSERT INTO inbox_sessions (session_key, route, actor, route_config, max_batch) VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_key) DO NOTHING`,
    args: [e.session_key, e.route, e.actor, e.route_config, e.max_batch],
  };
  const status = yield* outstanding(e.session_key);
  if (status !== null && WAITING.has(status)) return { held: true, notified: false };
  // a delivered notification covers the entries it announced; once they are gone (expired
  // unread), this one is news again
  if (status === 'delivered' && (yield* remaining(e.session_key, now)) > 1) return { held: true, notified: false };
  const [s]: Array<{ route: string; actor: string }> = yield { kind: 'all', sql: 'SELECT route, actor FROM inbox_sessions WHERE session_key = ?', args: [e.session_key] };
  // the notification goes where the key's first route sends it
  const notify = { ...e.notify, deliveries: e.notify.deliveries.map((d) => ({ ...d, route: s!.route, actor: s!.actor })) };
  yield* queueNotification(e.session_key, notify, now);
  return { held: true, notified: true };
}

function* remaining(key: string, now: number): Steps<number> {
  const [r]: Array<{ n: number | string }> = yield {
    kind: 'all',
    sql: `SELECT COUNT(*) AS n FROM inbox_entries WHERE session_key = ? AND expires_at > ? AND ${LIVE}`,
    args: [key, now, now],
  };
  return Number(r?.n ?? 0);
}

export function* takeSteps(key: string, limit: number, holdMs: number, token: string, now: number): Steps<{ entries: InboxEntry[]; remaining: number }> {
  yield { kind: 'run', sql: EXPIRE, args: [now] };
  // the outer condition is checked again on each row (Postgres re-reads a row another drain
  // changed meanwhile), so two drains never hand out the same entry
  yield {
    kind: 'run',
    sql: `UPDATE inbox_entries SET taken_by = ?, taken_until = ?
          WHERE id IN (SELECT id FROM inbox_entries WHERE session_key = ? AND expires_at > ? AND ${LIVE} ORDER BY id LIMIT ?) AND ${LIVE}`,
    args: [token, now + holdMs, key, now, now, limit, now],
  };
  const rows: Array<{ id: number | string; event_json: string; enqueued_at: number | string }> = yield {
    kind: 'all',
    sql: 'SELECT id, event_json, enqueued_at FROM inbox_entries WHERE taken_by = ? ORDER BY id',
    args: [token],
  };
  const entries = rows.map((r) => ({ id: Number(r.id), event_json: r.event_json, enqueued_at: Number(r.enqueued_at) }));
  return { entries, remaining: yield* remaining(key, now) };
}

export function* ackSteps(key: string, token: string, notify: IngestItem | null, now: number): Steps<{ remaining: number; notified: boolean }> {
  yield { kind: 'run', sql: 'DELETE FROM inbox_entries WHERE taken_by = ?', args: [token] };
  const left = yield* remaining(key, now);
  const status = yield* outstanding(key);
  // a notification not sent yet will tell of what is left; one the agent already had is spent
  if (left > 0 && status !== null && WAITING.has(status)) return { remaining: left, notified: false };
  if (left === 0) {
    const taken: Array<{ n: number | string }> = yield { kind: 'all', sql: 'SELECT COUNT(*) AS n FROM inbox_entries WHERE session_key = ?', args: [key] };
    // nothing waits: the next event starts the key afresh (its route config rendered anew)
    if (Number(taken[0]?.n ?? 0) === 0) yield { kind: 'run', sql: 'DELETE FROM inbox_sessions WHERE session_key = ?', args: [key] };
    else yield { kind: 'run', sql: 'UPDATE inbox_sessions SET notify_delivery_id = NULL WHERE session_key = ?', args: [key] };
    return { remaining: 0, notified: false };
  }
  if (!notify) {
    yield { kind: 'run', sql: 'UPDATE inbox_sessions SET notify_delivery_id = NULL WHERE session_key = ?', args: [key] };
    return { remaining: left, notified: false };
  }
  yield* queueNotification(key, notify, now);
  return { remaining: left, notified: true };
}

const SESSION = `SELECT s.session_key, s.route, s.actor, s.route_config, s.max_batch, s.notify_delivery_id, d.status AS notify_status,
    (SELECT COUNT(*) FROM inbox_entries e WHERE e.session_key = s.session_key AND e.expires_at > ? AND (e.taken_until IS NULL OR e.taken_until < ?)) AS pending,
    (SELECT MIN(enqueued_at) FROM inbox_entries e WHERE e.session_key = s.session_key AND e.expires_at > ?) AS oldest
  FROM inbox_sessions s LEFT JOIN deliveries d ON d.id = s.notify_delivery_id`;

type SessionRow = Omit<InboxSessionInfo, 'pending' | 'oldest_enqueued_at' | 'notified' | 'max_batch'> & {
  max_batch: number | string;
  notify_status: string | null;
  pending: number | string;
  oldest: number | string | null;
};

function toInfo(r: SessionRow): InboxSessionInfo {
  return {
    session_key: r.session_key,
    route: r.route,
    actor: r.actor,
    route_config: r.route_config,
    max_batch: Number(r.max_batch),
    pending: Number(r.pending),
    oldest_enqueued_at: r.oldest === null ? null : Number(r.oldest),
    notified: r.notify_status !== null && (WAITING.has(r.notify_status) || r.notify_status === 'delivered'),
    notify_delivery_id: r.notify_delivery_id ?? null,
  };
}

export function* sessionSteps(key: string | null, now: number): Steps<InboxSessionInfo[]> {
  const rows: SessionRow[] = yield {
    kind: 'all',
    sql: key === null ? `${SESSION} ORDER BY s.session_key` : `${SESSION} WHERE s.session_key = ?`,
    args: key === null ? [now, now, now] : [now, now, now, key],
  };
  return rows.map(toInfo);
}
