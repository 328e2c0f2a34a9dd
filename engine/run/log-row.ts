// A log entry as the store's log table keeps it, and back: absent fields are NULL there, the
// data is JSON text. The bus writes rows this way; `orgloop logs` reads them back to print.

import type { LogEntry } from '../../providers/types.js';
import type { NewLogEntry, StoredLogEntry } from '../../state/runtime-plane.js';

/** On the executor's hot path: one object literal, every column set. */
export function toLogRow(e: LogEntry): NewLogEntry {
  return {
    time: e.time,
    phase: e.phase,
    level: e.level,
    source: e.source ?? null,
    route: e.route ?? null,
    actor: e.actor ?? null,
    event_id: e.event_id ?? null,
    delivery_id: e.delivery_id ?? null,
    trace_id: e.trace_id ?? null,
    message: e.message ?? null,
    data: e.data ? JSON.stringify(e.data) : null,
  };
}

const OPTIONAL = ['source', 'route', 'actor', 'event_id', 'delivery_id', 'trace_id', 'message'] as const;

/** The entry a row was written from, without its data (the printed line does not show it). */
export function fromLogRow(r: StoredLogEntry): LogEntry {
  const e: LogEntry = { time: r.time, phase: r.phase, level: r.level as LogEntry['level'] };
  for (const k of OPTIONAL) if (r[k] !== null) e[k] = r[k];
  return e;
}
