// SQL text both dialects run unchanged, with `?` placeholders (the Postgres store numbers them).
// Statements that differ by dialect (locking, batching, index hints) stay in each store module.

import type { RuntimeRename } from './config-plane.js';
import { matchColumnsOfJson, type MatchValues } from './event-columns.js';
import type { IngestItem, StoredEvent } from './runtime-plane.js';

export const INSERT_EVENT = `INSERT INTO events (id, source, type, dedupe_key, event_json, trace_id, parent_id, hops, received_at, headers, platform_event, author_type)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;

export function eventValues(e: StoredEvent): unknown[] {
  const m = matchValues(e);
  return [e.id, e.source, e.type, e.dedupe_key, e.event_json, e.trace_id, e.parent_id, e.hops, e.received_at, e.headers ?? null, m.platform_event, m.author_type];
}

/** The match columns of a stored event: as its writer set them, else read from its JSON (parsed once). */
export function matchValues(e: StoredEvent): MatchValues {
  if (e.platform_event !== undefined && e.author_type !== undefined) return { platform_event: e.platform_event, author_type: e.author_type };
  const parsed = matchColumnsOfJson(e.event_json);
  return { platform_event: e.platform_event !== undefined ? e.platform_event : parsed.platform_event, author_type: e.author_type !== undefined ? e.author_type : parsed.author_type };
}

/** The columns of StoredEvent without the headers (which only the console's trace reads). */
export const EVENT_COLUMNS = 'id, source, type, dedupe_key, event_json, trace_id, parent_id, hops, received_at';

export const PRIOR_EVENT = 'SELECT id FROM events WHERE source = ? AND dedupe_key = ?';

/** Claims a dedupe key for a new event; no row changed means the key is taken. */
export const CLAIM_KEY = 'INSERT INTO dedupe_keys (source, key, event_id, seen_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING';
export const KEY_OWNER = 'SELECT event_id FROM dedupe_keys WHERE source = ? AND key = ?';
/** An event kept past its key's horizon still holds the key in `events`: the key points at it again. */
export const REPOINT_KEY = 'UPDATE dedupe_keys SET event_id = ? WHERE source = ? AND key = ?';

/**
 * One pruning step (DESIGN §4 Retention), each statement bounded by a LIMIT: finished
 * deliveries last touched before the cutoff, then events before it that no delivery references
 * any more (pending work keeps its event), log rows, and dedupe keys past their own horizon.
 * Arguments: [cutoff ISO, limit] except dedupe_keys: [horizon epoch ms, limit] and inbox: [now epoch ms, limit].
 */
export const PRUNE = {
  deliveries: `DELETE FROM deliveries WHERE id IN (
    SELECT id FROM deliveries WHERE status IN ('delivered', 'dead', 'cancelled') AND updated_at < ?
    ORDER BY updated_at LIMIT ?)`,
  events: `DELETE FROM events WHERE id IN (
    SELECT id FROM events e WHERE received_at < ? AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id)
    ORDER BY received_at LIMIT ?)`,
  log: 'DELETE FROM log WHERE id IN (SELECT id FROM log WHERE time < ? ORDER BY time LIMIT ?)',
  dedupe_keys: `DELETE FROM dedupe_keys WHERE (source, key) IN (
    SELECT source, key FROM dedupe_keys WHERE seen_at < ? ORDER BY seen_at LIMIT ?)`,
  // inbox entries past their inbox_ttl, read or not (a drain holding one deletes what is left of
  // it by its token anyway); enqueues and drains delete them too, but only on keys still in use
  inbox: 'DELETE FROM inbox_entries WHERE id IN (SELECT id FROM inbox_entries WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)',
} as const;

export const INSERT_PENDING = `INSERT INTO deliveries (id, event_id, route, actor, state_serial, status, attempts, run_at, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?) ON CONFLICT DO NOTHING`;

export const INSERT_LEASED = `INSERT INTO deliveries (id, event_id, route, actor, state_serial, status, attempts, run_at, lease_owner, lease_until, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, 'leased', 1, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;

type NewDelivery = IngestItem['deliveries'][number];

export function pendingValues(d: NewDelivery, eventId: string, now: number, ts: string): unknown[] {
  return [d.id, eventId, d.route, d.actor, d.state_serial, now, ts, ts];
}

export function leasedValues(d: NewDelivery, eventId: string, now: number, owner: string, until: number, ts: string): unknown[] {
  return [d.id, eventId, d.route, d.actor, d.state_serial, now, owner, until, ts, ts];
}

export const UPSERT_CURSOR = `INSERT INTO cursors (source, cursor, etag, lease_term, updated_at) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, etag = excluded.etag,
    lease_term = excluded.lease_term, updated_at = excluded.updated_at`;

export const INSERT_BLOB = 'INSERT INTO blobs (sha256, text) VALUES (?, ?) ON CONFLICT (sha256) DO NOTHING';

export const INSERT_LOCK = `INSERT INTO locks (singleton, id, operation, who, host, pid, created_at, heartbeat_at)
  VALUES (1, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (singleton) DO NOTHING`;

export const LOCK_HOLDER = 'SELECT id, operation, who, host, pid, created_at, heartbeat_at FROM locks WHERE singleton = 1';

/** `state mv`: the statements that re-key runtime rows, run inside the version write's transaction. */
export function renameStatements(r: RuntimeRename): Array<[string, unknown[]]> {
  // dedupe keys follow their events; a key whose event was pruned counts as a source's
  const keysOf = (stopped: boolean) =>
    `UPDATE dedupe_keys SET source = ? WHERE source = ? AND ${stopped ? '' : 'NOT '}EXISTS (
       SELECT 1 FROM events e WHERE e.id = dedupe_keys.event_id AND e.type = 'actor.stopped')`;
  if (r.kind === 'source') {
    return [
      ['UPDATE cursors SET source = ? WHERE source = ?', [r.to, r.from]],
      [keysOf(false), [r.to, r.from]],
      ["UPDATE events SET source = ? WHERE source = ? AND type <> 'actor.stopped'", [r.to, r.from]],
    ];
  }
  if (r.kind === 'route') return [['UPDATE deliveries SET route = ? WHERE route = ?', [r.to, r.from]]];
  return [
    ['UPDATE deliveries SET actor = ? WHERE actor = ?', [r.to, r.from]],
    // an actor's completions are events whose source is the actor id
    [keysOf(true), [r.to, r.from]],
    ["UPDATE events SET source = ? WHERE source = ? AND type = 'actor.stopped'", [r.to, r.from]],
  ];
}

/** A lease row as `acquireLease` finds it, and what the acquirer gets: a term, or null when held. */
export function nextTerm(r: { holder: string; term: number; expires_at: number }, holder: string, now: number): number | null {
  const live = r.expires_at > now;
  if (live && r.holder !== holder) return null;
  // renewing a live lease keeps the term; any new tenure (even by the same holder after
  // expiry or release) bumps it, so writes fenced by the old term are refused
  return live ? r.term : r.term + 1;
}

/** The filters that are set, as clauses to AND together and their arguments, in order. */
export function setFilters(filters: Array<[string, string | number | undefined]>): { clauses: string[]; args: Array<string | number> } {
  const set = filters.filter((f): f is [string, string | number] => f[1] !== undefined);
  return { clauses: set.map((f) => f[0]), args: set.map((f) => f[1]) };
}

/** WHERE clause from the filters that are set; the SQL text stays stable per filter combination. */
export function conditions(filters: Array<[string, string | number | undefined]>): { where: string; args: Array<string | number> } {
  const { clauses, args } = setFilters(filters);
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', args };
}
