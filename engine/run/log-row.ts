// A log entry as the store's log table keeps it, and back: absent fields are NULL there, the
// data is JSON text. The bus writes rows this way; `orgloop logs` reads them back to print.

import type { LogEntry } from '../../providers/types.js';
import type { NewLogEntry, StoredLogEntry } from '../../state/runtime-plane.js';

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

/** The entry a row was written from, without its data (the printed line does not show it). */
export function fromLogRow(r: StoredLogEntry): LogEntry {
  return {
    time: r.time,
    phase: r.phase,
    level: r.level as LogEntry['level'],
    source: r.source ?? undefined,
    route: r.route ?? undefined,
    actor: r.actor ?? undefined,
    event_id: r.event_id ?? undefined,
    delivery_id: r.delivery_id ?? undefined,
    trace_id: r.trace_id ?? undefined,
    message: r.message ?? undefined,
  };
}
