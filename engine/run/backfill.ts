// `orgloop events replay --since D --route R`: after an apply adds a route, give it the real
// events of a window, as deliveries of the current version. The stored events themselves are
// used (not copies), so the (event, route) uniqueness of deliveries makes a second run add
// nothing. Matching is the router's (`when`, max_hops); the route's transforms run when the
// deliveries do, in the executor, as for any delivery.

import type { OrgEvent } from '../../providers/types.js';
import type { DeliveryControl, Inspection, LogSink, StateReader } from '../../state/store.js';
import { DEFAULT_MAX_HOPS } from './graph.js';
import { newId } from './ids.js';
import { Router } from './router.js';
import { routeViews, snapshotResources } from './inspect.js';

const PAGE = 2_000;

export interface BackfillReport {
  route: string;
  actor: string;
  /** the applied version the deliveries run under */
  serial: number;
  since: string;
  /** events of the route's source received in the window */
  events: number;
  /** of those, the ones the route's `when` matches */
  matched: number;
  /** more hops deep than the route's max_hops: no delivery, as at ingest */
  loop_cut: number;
  /** deliveries created now */
  added: number;
  /** matched events that already had a delivery on this route (an earlier backfill, or ingest) */
  existing: number;
}

export class BackfillError extends Error {}

export async function backfillRoute(store: StateReader & Pick<DeliveryControl, 'addDeliveries'> & Pick<Inspection, 'eventsReceived'> & LogSink, route: string, since: string, until = new Date().toISOString()): Promise<BackfillReport> {
  const cur = await store.current();
  if (!cur) throw new BackfillError(`no applied version in ${store.location}: apply the route first`);
  const view = routeViews(snapshotResources(cur.snapshot)).find((r) => r.name === route);
  if (!view) throw new BackfillError(`route "${route}" is not in the applied version ${cur.serial}: apply it first (see \`orgloop routes\`)`);
  const router = new Router([{ name: view.name, source: view.source, events: view.events, filter: view.filter ?? undefined }]);
  const maxHops = view.max_hops ?? DEFAULT_MAX_HOPS;
  const report: BackfillReport = { route, actor: view.actor, serial: cur.serial, since, events: 0, matched: 0, loop_cut: 0, added: 0, existing: 0 };
  let after: { received_at: string; id: string } | undefined;
  for (;;) {
    const page = await store.eventsReceived({ since, sources: [view.source], after, limit: PAGE });
    const rows = [];
    let done = page.length < PAGE;
    for (const row of page) {
      if (row.received_at >= until) {
        done = true;
        break;
      }
      report.events++;
      const event = JSON.parse(row.event_json) as OrgEvent;
      if (!router.match(event).length) continue;
      report.matched++;
      if ((typeof event.hops === 'number' ? event.hops : 0) > maxHops) {
        report.loop_cut++;
        continue;
      }
      rows.push({ id: newId('dlv'), event_id: row.id, route, actor: view.actor, state_serial: cur.serial });
    }
    const added = rows.length ? await store.addDeliveries(rows) : 0;
    report.added += added;
    report.existing += rows.length - added;
    if (done) break;
    const last = page[page.length - 1]!;
    after = { received_at: last.received_at, id: last.id };
  }
  if (report.added > 0) {
    const now = new Date().toISOString();
    await store.appendLog([
      {
        time: now,
        phase: 'route.backfill',
        level: 'info',
        source: view.source,
        route,
        actor: view.actor,
        event_id: null,
        delivery_id: null,
        trace_id: null,
        message: `backfill of route ${route} since ${since}: ${report.added} deliver${report.added === 1 ? 'y' : 'ies'} added under version ${cur.serial}`,
        data: JSON.stringify({ since, until, added: report.added, existing: report.existing }),
      },
    ]);
  }
  return report;
}
