// Retrying dead deliveries. A retry either keeps the version that routed the delivery ("pinned":
// the same actor and route it failed with) or moves it to the applied version ("current"), which
// is what "fix the actor, apply, retry" needs.

import { UserError } from '../errors.js';
import type { Delivery, DeliveryControl, StateReader } from '../../state/store.js';

export type RetryVersion = 'pinned' | 'current';

export interface RetryOutcome {
  retried: string[];
  /** serial the retried deliveries run under when `current`; absent when pinned */
  serial?: number;
  /** pinned retries of deliveries routed under an older version than the applied one */
  behind: string[];
}

/** Why a delivery cannot run under the applied version, or null when it can. */
function missingNow(d: Delivery, resources: Record<string, unknown>, serial: number): string | null {
  if (!resources[`route.${d.route}`]) return `route "${d.route}" is not in the applied version ${serial}`;
  if (!resources[`actor.${d.actor}`]) return `actor "${d.actor}" is not in the applied version ${serial}`;
  return null;
}

/**
 * Sends dead or cancelled deliveries again with attempts reset. With `current`, each must still
 * have its route and actor in the applied version (else a UserError for one id; skipped for many).
 */
export async function retryDeliveries(store: StateReader & Pick<DeliveryControl, 'redrive'>, rows: Delivery[], version: RetryVersion, opts: { strict: boolean }): Promise<RetryOutcome> {
  const cur = await store.current();
  const serial = cur?.serial ?? 0;
  const out: RetryOutcome = { retried: [], behind: [], ...(version === 'current' ? { serial } : {}) };
  for (const d of rows) {
    if (version === 'current') {
      const why = cur ? missingNow(d, cur.snapshot.resources, serial) : 'nothing is applied';
      if (why) {
        if (opts.strict) throw new UserError(`cannot retry ${d.id} under the current version: ${why} (\`orgloop events replay ${d.event_id}\` routes its event again)`);
        continue;
      }
    }
    if (!(await store.redrive(d.id, version === 'current' ? serial : undefined))) continue;
    out.retried.push(d.id);
    if (version === 'pinned' && d.state_serial !== serial) out.behind.push(d.id);
  }
  return out;
}
