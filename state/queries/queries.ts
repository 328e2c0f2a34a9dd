// Read-only queries for observability (metrics gauges, the console's JSON API). They run on a
// connection of their own, beside the Store's, so a slow listing never waits behind the
// executor's write batch and the Store interface stays the executor's contract alone.
//
// Listings stay fast on a store of millions of events without indexes beyond the ones the
// executor needs: ids are time-ordered, so pages are keyset ranges on the primary key, and a
// filter only looks at a bounded window of recent rows per request (`scanned` tells the client
// where to continue) instead of walking the whole table for a value that may be rare.

import { isPostgresUrl } from '../open.js';
import { setFilters } from '../sql.js';
import type { DeliveryStatus } from '../runtime-plane.js';
import type { BacklogRow, DeliveryRow, EventFilter, EventRow, LogRow, Page } from './rows.js';

export type * from './rows.js';

const EVENT_COLUMNS = 'id, source, type, received_at, trace_id, parent_id, hops';
const DELIVERY_COLUMNS = 'id, event_id, route, actor, state_serial, status, attempts, run_at, last_error, created_at, updated_at';

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

  /**
   * Dead deliveries per route, from the counters triggers keep (migration 003): its cost is the
   * number of routes, not of dead letters.
   */
  async deadCounts(): Promise<Array<{ route: string; count: number }>> {
    const rows = await this.all<{ route: string; count: number | string }>(
      `SELECT route, CAST(SUM(count) AS BIGINT) AS count FROM delivery_counts WHERE status = 'dead' GROUP BY route HAVING SUM(count) <> 0`,
    );
    return rows.map((r) => ({ route: r.route, count: Number(r.count) }));
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
    // an empty filter value matches everything, as an absent one does
    const ev = setFilters([
      ['e.source = ?', f.source || undefined],
      ['e.type = ?', f.type || undefined],
      [`e.event_json LIKE ? ESCAPE '\\'`, f.text ? `%${f.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined],
    ]);
    const dl = setFilters([
      ['d.route = ?', f.route || undefined],
      ['d.actor = ?', f.actor || undefined],
      ['d.status = ?', f.status || undefined],
    ]);
    const where = ev.clauses;
    if (dl.clauses.length) where.push(`EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND ${dl.clauses.join(' AND ')})`);
    const params = [...ev.args, ...dl.args];
    const cols = EVENT_COLUMNS.replace(/\w+/g, 'e.$&');
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

  /** One event with its JSON and, for a webhook, its masked ingress headers (JSON, or null). */
  async event(id: string): Promise<(EventRow & { event_json: string; headers: string | null }) | null> {
    const [r] = await this.all<EventRow & { event_json: string; headers: string | null }>(`SELECT ${EVENT_COLUMNS}, event_json, headers FROM events WHERE id = ?`, [id]);
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
          `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE event_id IN (${ids.map(() => '?').join(', ')})`,
          ids,
        )),
      );
    }
    return out;
  }

  async delivery(id: string): Promise<DeliveryRow | null> {
    const [r] = await this.all<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE id = ?`,
      [id],
    );
    return r ?? null;
  }

  /** Every event of one trace (the loop's hops), oldest first; bounded. */
  traceEvents(traceId: string, limit = 500): Promise<EventRow[]> {
    return this.all<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE trace_id = ? ORDER BY id LIMIT ?`, [traceId, limit]);
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
    const { clauses, args } = setFilters([
      ['status = ?', f.status ?? 'dead'],
      ['route = ?', f.route || undefined],
      ['actor = ?', f.actor || undefined],
    ]);
    const where: string[] = clauses;
    const params: unknown[] = args;
    const cut = before?.indexOf('|') ?? -1;
    if (before && cut > 0) {
      where.push('(created_at < ? OR (created_at = ? AND id < ?))');
      params.push(before.slice(0, cut), before.slice(0, cut), before.slice(cut + 1));
    }
    const rows = await this.all<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`,
      [...params, limit + 1],
    );
    const last = rows[limit - 1];
    return { items: rows.slice(0, limit), next: rows.length > limit && last ? `${last.created_at}|${last.id}` : null };
  }

  /** Ids of dead deliveries matching a filter (retry all matching), at most `max`. */
  async deadIds(f: { route?: string; actor?: string }, max: number): Promise<string[]> {
    // the status stays literal in the SQL text, where the planner can match partial indexes
    const { clauses, args } = setFilters([
      ['route = ?', f.route || undefined],
      ['actor = ?', f.actor || undefined],
    ]);
    const where = [`status = 'dead'`, ...clauses].join(' AND ');
    const rows = await this.all<{ id: string }>(`SELECT id FROM deliveries WHERE ${where} ORDER BY id LIMIT ?`, [...args, max]);
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
