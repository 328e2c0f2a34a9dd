// The rows the console's queries return: slices of the runtime plane's records, typed from them
// so a column added there is one edit. Types only, so the browser app (web/) can share them.

import type { Delivery, DeliveryStatus, StoredEvent, StoredLogEntry } from '../runtime-plane.js';

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

/** an event without its JSON (listings) */
export type EventRow = Pick<StoredEvent, 'id' | 'source' | 'type' | 'received_at' | 'trace_id' | 'parent_id' | 'hops'>;

/** a delivery without its lease (who holds a lease is the executor's business, not the console's) */
export type DeliveryRow = Omit<Delivery, 'lease_owner' | 'lease_until'>;

/** a log entry of one trace: the trace id is the query's */
export type LogRow = Omit<StoredLogEntry, 'trace_id'>;

export interface Page<T> {
  items: T[];
  /** pass as `before` for the next page; null when the table has no older rows */
  next: string | null;
}
