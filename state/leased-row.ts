// The delivery row an ingest with `leaseTo` stored: built from what was inserted rather than read
// back, so leasing at ingest costs no extra query (both backends).

import type { Delivery, IngestItem } from './runtime-plane.js';

export function leasedRow(
  d: IngestItem['deliveries'][number],
  eventId: string,
  owner: string,
  now: number,
  until: number,
  ts: string,
): Delivery {
  return {
    id: d.id,
    event_id: eventId,
    route: d.route,
    actor: d.actor,
    state_serial: d.state_serial,
    status: 'leased',
    attempts: 1,
    run_at: now,
    lease_owner: owner,
    lease_until: until,
    last_error: null,
    created_at: ts,
    updated_at: ts,
  };
}

