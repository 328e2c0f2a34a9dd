// `orgloop test --from-store`: the stored events of a window replayed through a configuration
// (the project on disk, or the applied version) without delivering anything: per route what
// would match and what each transform would decide. Matching and transforms are the plan's
// traffic replay (traffic-transforms.ts): pure transforms run, the others are named.

import type { OrgEvent } from '../../providers/types.js';
import type { Inspection } from '../../state/runtime-plane.js';
import { Router } from '../run/router.js';
import { ChainRunner, notEvaluatedReason, type StepDecision, type TrafficRoute } from './traffic-transforms.js';

const PAGE = 5_000;

export interface StoreTestOptions {
  /** ISO bounds of the window; `until` exclusive */
  since: string;
  until: string;
  /** only events of this source (or actor, for actor.stopped) */
  source?: string;
  /** only report this route (the routes sharing its dedup memory still run) */
  route?: string;
}

export interface StoreTestTransform {
  transform: string;
  type: string;
  evaluated: boolean;
  reason?: string;
  /** how many events reached it, by decision (`not_evaluated` when it was not run) */
  decisions: Record<StepDecision, number>;
}

export interface StoreTestRoute {
  route: string;
  source: string;
  actor: string;
  /** events its `when` matched */
  matched: number;
  /** more hops deep than its max_hops: never delivered */
  loop_cut: number;
  /** passed every evaluated transform: would be delivered */
  would_deliver: number;
  dropped: number;
  /** a transform failed: the delivery would be retried */
  errors: number;
  transforms: StoreTestTransform[];
}

export interface StoreTestReport {
  since: string;
  until: string;
  /** events replayed (of the selected source, or of the selected route's source) */
  events: number;
  routes: StoreTestRoute[];
  /** replayed events no route matched, by source and event type (provenance.platform_event, else type) */
  unmatched: Array<{ source: string; event: string; count: number }>;
}

const zero = (): Record<StepDecision, number> => ({ pass: 0, drop: 0, error: 0, not_evaluated: 0 });

export async function testFromStore(store: Pick<Inspection, 'eventsReceived'>, routes: Map<string, TrafficRoute>, opts: StoreTestOptions): Promise<StoreTestReport> {
  const focus = opts.route ? routes.get(opts.route) : undefined;
  if (opts.route && !focus) throw new Error(`no route named "${opts.route}"`);
  const onlySource = opts.source ?? focus?.source;
  const report = new Map<string, StoreTestRoute>();
  for (const r of routes.values()) {
    if (opts.route && r.name !== opts.route) continue;
    if (onlySource && r.source !== onlySource) continue;
    report.set(r.name, {
      route: r.name,
      source: r.source,
      actor: r.actor,
      matched: 0,
      loop_cut: 0,
      would_deliver: 0,
      dropped: 0,
      errors: 0,
      transforms: r.transforms.map((t) => {
        const reason = notEvaluatedReason(t);
        return { transform: t.name, type: t.type, evaluated: reason === null, ...(reason ? { reason } : {}), decisions: zero() };
      }),
    });
  }
  const router = new Router([...routes.values()]);
  const chains = new ChainRunner();
  const unmatched = new Map<string, { source: string; event: string; count: number }>();
  let events = 0;
  let after: { received_at: string; id: string } | undefined;
  for (;;) {
    const page = await store.eventsReceived({ since: opts.since, sources: onlySource ? [onlySource] : null, after, limit: PAGE });
    let done = page.length < PAGE;
    for (const row of page) {
      if (row.received_at >= opts.until) {
        done = true;
        break;
      }
      events++;
      const event = JSON.parse(row.event_json) as OrgEvent;
      const at = Date.parse(row.received_at);
      const hops = typeof event.hops === 'number' ? event.hops : 0;
      const matched = router.match(event);
      if (!matched.length) {
        const name = String(event.provenance?.platform_event ?? event.type);
        const key = `${row.source}\u0000${name}`;
        const u = unmatched.get(key) ?? { source: row.source, event: name, count: 0 };
        u.count++;
        unmatched.set(key, u);
      }
      for (const r of matched) {
        const out = report.get(r.name);
        if (out) out.matched++;
        if (hops > r.maxHops) {
          if (out) out.loop_cut++;
          continue;
        }
        // every matched route runs, reported or not: dedup memory is shared between routes
        const res = chains.run(r.transforms, event, at);
        if (!out) continue;
        res.steps.forEach((d, i) => out.transforms[i]!.decisions[d]++);
        if (res.decision === 'pass') out.would_deliver++;
        else if (res.decision === 'drop') out.dropped++;
        else out.errors++;
      }
    }
    if (done) break;
    const last = page[page.length - 1]!;
    after = { received_at: last.received_at, id: last.id };
  }
  return {
    since: opts.since,
    until: opts.until,
    events,
    routes: [...report.values()].sort((a, b) => (a.source === b.source ? a.route.localeCompare(b.route) : a.source.localeCompare(b.source))),
    unmatched: [...unmatched.values()].sort((x, y) => y.count - x.count || (x.source + x.event < y.source + y.event ? -1 : 1)),
  };
}
