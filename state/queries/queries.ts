// Read-only queries for observability (metrics gauges, the console's JSON API). They run on a
// connection of their own, beside the Store's, so a slow listing never waits behind the
// executor's write batch and the Store interface stays the executor's contract alone.
//
// Listings stay fast on a store of millions of events without indexes beyond the ones the
// executor needs: ids are time-ordered, so pages are keyset ranges on the primary key, and a
// filter only looks at a bounded window of recent rows per request (`scanned` tells the client
// where to continue) instead of walking the whole table for a value that may be rare.

import type { DeliveryStatus } from '../runtime-plane.js';
import { isPostgresUrl } from '../open.js';

export interface BacklogRow {
  route: string;
  actor: string;
  status: DeliveryStatus;
  count: number;
  /** run_at (epoch ms) of the oldest row in this group */
  oldest_run_at: number | null;
}

export interface EventFilter {
  source?: string;
  type?: string;
  route?: string;
  actor?: string;
  status?: DeliveryStatus;
  /** substring of the event JSON */
  text?: string;
}

export interface EventRow {
  id: string;
  source: string;
  type: string;
  received_at: string;
  trace_id: string;
  parent_id: string | null;
  hops: number;
}

export interface DeliveryRow {
  id: string;
  event_id: string;
  route: string;
  actor: string;
  state_serial: number;
  status: DeliveryStatus;
  attempts: number;
  run_at: number;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface LogRow {
  id: number;
  time: string;
  phase: string;
  level: string;
  source: string | null;
  route: string | null;
  actor: string | null;
  event_id: string | null;
  delivery_id: string | null;
  message: string | null;
  data: string | null;
}

export interface Page<T> {
  items: T[];
  /** pass as `before` for the next page; null when the table has no older rows */
  next: string | null;
}

/** Rows examined per request when filtering events (text search reads each event's JSON: fewer). */
export const SCAN_WINDOW = 20_000;
export const TEXT_SCAN_WINDOW = 5_000;

export abstract class RuntimeQueries {
  abstract readonly kind: 'sqlite' | 'postgres';
  /** runs a read with `?` placeholders */
  protected abstract all<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Bytes the store takes on disk (SQLite: database plus WAL; Postgres: the schema's relations). */
  abstract storeBytes(): Promise<number>;
  abstract close(): Promise<void>;

  /** Deliveries in the given states (default: not finished, and dead), per route, actor and status. */
  backlog(statuses: DeliveryStatus[] = ['pending', 'retry', 'leased', 'dead']): Promise<BacklogRow[]> {
    return this.all<BacklogRow>(
      `SELECT route, actor, status, COUNT(*) AS count, MIN(run_at) AS oldest_run_at
       FROM deliveries WHERE status IN (${statuses.map(() => '?').join(', ')})
       GROUP BY route, actor, status`,
      statuses,
    );
  }

  /** Leased deliveries whose lease ran out: work a crashed or stalled worker left to be reclaimed. */
  async expiredLeases(now: number): Promise<number> {
    const [r] = await this.all<{ n: number }>(`SELECT COUNT(*) AS n FROM deliveries WHERE status = 'leased' AND lease_until < ?`, [now]);
    return Number(r?.n ?? 0);
  }

  /**
   * Newest events first, older than `before` (an event id). Filters look at most SCAN_WINDOW rows
   * back from `before`; when the window is used up, `next` continues after it even if fewer
   * than `limit` matched.
   */
  async events(f: EventFilter, before: string | null, limit: number): Promise<Page<EventRow>> {
    const filtered = Object.values(f).some((v) => v !== undefined && v !== '');
    const window = f.text ? TEXT_SCAN_WINDOW : SCAN_WINDOW;
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.source) {
      where.push('e.source = ?');
      params.push(f.source);
    }
    if (f.type) {
      where.push('e.type = ?');
      params.push(f.type);
    }
    if (f.text) {
      where.push(`e.event_json LIKE ? ESCAPE '\\'`);
      params.push(`%${f.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    }
    const dl: string[] = [];
    if (f.route) {
      dl.push('d.route = ?');
      params.push(f.route);
    }
    if (f.actor) {
      dl.push('d.actor = ?');
      params.push(f.actor);
    }
    if (f.status) {
      dl.push('d.status = ?');
      params.push(f.status);
    }
    if (dl.length) where.push(`EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND ${dl.join(' AND ')})`);
    const cols = 'e.id, e.source, e.type, e.received_at, e.trace_id, e.parent_id, e.hops';
    const range = before ? 'WHERE id < ?' : '';
    const rangeParams = before ? [before] : [];
    if (!filtered) {
      const rows = await this.all<EventRow>(`SELECT ${cols} FROM events e ${range.replace('id', 'e.id')} ORDER BY e.id DESC LIMIT ?`, [...rangeParams, limit + 1]);
      return { items: rows.slice(0, limit), next: rows.length > limit ? rows[limit - 1]!.id : null };
    }
    const rows = await this.all<EventRow>(
      `SELECT ${cols} FROM (SELECT * FROM events ${range} ORDER BY id DESC LIMIT ?) e
       WHERE ${where.join(' AND ')} ORDER BY e.id DESC LIMIT ?`,
      [...rangeParams, window, ...params, limit + 1],
    );
    if (rows.length > limit) return { items: rows.slice(0, limit), next: rows[limit - 1]!.id };
    // fewer matches than asked: continue after the window when the table goes on past it
    const [edge] = await this.all<{ id: string }>(`SELECT id FROM events ${range} ORDER BY id DESC LIMIT 1 OFFSET ?`, [...rangeParams, window - 1]);
    return { items: rows, next: edge ? edge.id : null };
  }

  async event(id: string): Promise<(EventRow & { event_json: string }) | null> {
    const [r] = await this.all<EventRow & { event_json: string }>('SELECT id, source, type, received_at, trace_id, parent_id, hops, event_json FROM events WHERE id = ?', [id]);
    return r ?? null;
  }

  /** The deliveries of some events (the UNIQUE (event_id, route) index serves each). */
  async deliveriesOf(eventIds: string[]): Promise<DeliveryRow[]> {
    if (eventIds.length === 0) return [];
    const out: DeliveryRow[] = [];
    for (let i = 0; i < eventIds.length; i += 200) {
      const ids = eventIds.slice(i, i + 200);
      out.push(
        ...(await this.all<DeliveryRow>(
          `SELECT id, event_id, route, actor, state_serial, status, attempts, run_at, last_error, created_at, updated_at
           FROM deliveries WHERE event_id IN (${ids.map(() => '?').join(', ')})`,
          ids,
        )),
      );
    }
    return out;
  }

  async delivery(id: string): Promise<DeliveryRow | null> {
    const [r] = await this.all<DeliveryRow>(
      'SELECT id, event_id, route, actor, state_serial, status, attempts, run_at, last_error, created_at, updated_at FROM deliveries WHERE id = ?',
      [id],
    );
    return r ?? null;
  }

  /** Every event of one trace (the loop's hops), oldest first; bounded. */
  traceEvents(traceId: string, limit = 500): Promise<EventRow[]> {
    return this.all<EventRow>('SELECT id, source, type, received_at, trace_id, parent_id, hops FROM events WHERE trace_id = ? ORDER BY id LIMIT ?', [traceId, limit]);
  }

  /** The log entries of one trace, oldest first; bounded. */
  traceLog(traceId: string, limit = 2000): Promise<LogRow[]> {
    return this.all<LogRow>(
      'SELECT id, time, phase, level, source, route, actor, event_id, delivery_id, message, data FROM log WHERE trace_id = ? ORDER BY id LIMIT ?',
      [traceId, limit],
    );
  }

  /**
   * Dead deliveries (or those waiting to retry), newest first in the (status, created_at) index's
   * order, so a page reads only its own rows however many are dead. `before` is the previous
   * page's `next`: created_at and id of its last row.
   */
  async dead(f: { route?: string; actor?: string; status?: 'dead' | 'retry' }, before: string | null, limit: number): Promise<Page<DeliveryRow>> {
    const where = ['status = ?'];
    const params: unknown[] = [f.status ?? 'dead'];
    if (f.route) {
      where.push('route = ?');
      params.push(f.route);
    }
    if (f.actor) {
      where.push('actor = ?');
      params.push(f.actor);
    }
    const cut = before?.indexOf('|') ?? -1;
    if (before && cut > 0) {
      where.push('(created_at < ? OR (created_at = ? AND id < ?))');
      params.push(before.slice(0, cut), before.slice(0, cut), before.slice(cut + 1));
    }
    const rows = await this.all<DeliveryRow>(
      `SELECT id, event_id, route, actor, state_serial, status, attempts, run_at, last_error, created_at, updated_at
       FROM deliveries WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`,
      [...params, limit + 1],
    );
    const last = rows[limit - 1];
    return { items: rows.slice(0, limit), next: rows.length > limit && last ? `${last.created_at}|${last.id}` : null };
  }

  /** Ids of dead deliveries matching a filter (retry all matching), at most `max`. */
  async deadIds(f: { route?: string; actor?: string }, max: number): Promise<string[]> {
    const where = [`status = 'dead'`];
    const params: unknown[] = [];
    if (f.route) {
      where.push('route = ?');
      params.push(f.route);
    }
    if (f.actor) {
      where.push('actor = ?');
      params.push(f.actor);
    }
    const rows = await this.all<{ id: string }>(`SELECT id FROM deliveries WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`, [...params, max]);
    return rows.map((r) => r.id);
  }

  /**
   * Deliveries created since `sinceId` (a delivery id minted at the window's start: ids are
   * time-ordered, so this is a primary-key range over the window only), per route, actor, status.
   */
  recentDeliveries(sinceId: string): Promise<Array<{ route: string; actor: string; status: DeliveryStatus; count: number }>> {
    return this.all(`SELECT route, actor, status, COUNT(*) AS count FROM deliveries WHERE id >= ? GROUP BY route, actor, status`, [sinceId]);
  }

  /** Events received since `sinceId` (an event id at the window's start), per source. */
  recentEvents(sinceId: string): Promise<Array<{ source: string; count: number }>> {
    return this.all(`SELECT source, COUNT(*) AS count FROM events WHERE id >= ? GROUP BY source`, [sinceId]);
  }

  executors(): Promise<Array<{ id: string; host: string; pid: number; serial_loaded: number; started_at: string; heartbeat_at: string }>> {
    return this.all('SELECT id, host, pid, serial_loaded, started_at, heartbeat_at FROM executors ORDER BY id');
  }
}

export async function openQueries(location: string): Promise<RuntimeQueries> {
  if (isPostgresUrl(location)) {
    const { PostgresQueries } = await import('./postgres.js');
    return PostgresQueries.open(location);
  }
  const { SqliteQueries } = await import('./sqlite.js');
  return new SqliteQueries(location);
}
