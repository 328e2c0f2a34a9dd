// Running a route's pure transforms over stored events, for plan traffic and `orgloop test
// --from-store`. Only transforms whose decision depends on the event and the events before it
// are run: `filter` (match / match_any / exclude; a `jq` filter runs a program) and `dedup`
// (whose memory is replayed on the events' own receive times, so its window means what it
// meant then). `script`, `enrich`, packages, and any transform whose stored config holds a
// secret are not run: they are named, and pass every event for counting purposes.

import type { OrgEvent } from '../../providers/types.js';
import { filterDropReason } from '../../providers/transforms/filter.js';
import { dedupKeyValues, dedupWindowMs } from '../../providers/transforms/dedup.js';
import { containsSecret } from '../secrets/index.js';

export interface TrafficTransform {
  /** the transform's name (the dedup memory's scope, as in the executor) */
  name: string;
  /** its provider: filter, dedup, script, enrich, a package... */
  type: string;
  config: Record<string, unknown>;
  onError?: 'pass' | 'drop' | 'halt';
}

export interface TrafficRoute {
  name: string;
  source: string;
  events: string[];
  filter?: Record<string, unknown>;
  actor: string;
  maxHops: number;
  transforms: TrafficTransform[];
}

export type StepDecision = 'pass' | 'drop' | 'error' | 'not_evaluated';

export interface ChainResult {
  /** drop: an evaluated transform dropped it; error: one failed (the delivery would be retried) */
  decision: 'pass' | 'drop' | 'error';
  /** one per transform of the chain, in order, up to the one that decided */
  steps: StepDecision[];
}

const reasons = new WeakMap<object, string | null>();

/** Why a transform is not run over stored traffic, or null when it is (once per transform: replays ask per event). */
export function notEvaluatedReason(t: Pick<TrafficTransform, 'type' | 'config'>): string | null {
  let reason = reasons.get(t);
  if (reason === undefined) reasons.set(t, (reason = reasonNotEvaluated(t)));
  return reason;
}

function reasonNotEvaluated(t: Pick<TrafficTransform, 'type' | 'config'>): string | null {
  if (t.type === 'script') return 'script: runs a program';
  if (t.type === 'enrich') return 'enrich: not run over stored events';
  if (t.type !== 'filter' && t.type !== 'dedup') return `${t.type}: not a built-in pure transform`;
  if (t.type === 'filter' && typeof t.config.jq === 'string') return 'filter with jq: runs a program';
  if (containsSecret(t.config)) return `${t.type}: its config holds a secret`;
  return null;
}

/**
 * The dedup transforms' memory, replayed: `seen` behaves like the store's (the window runs from
 * the first accepted sighting) on the clock of the event being replayed. Keys older than their
 * window are dropped about once per window, so memory is bounded by the keys of one window.
 */
class ReplayedSeen {
  private readonly keys = new Map<string, Map<string, number>>();
  private readonly purged = new Map<string, number>();

  seen(scope: string, key: string, windowMs: number, now: number): boolean {
    let m = this.keys.get(scope);
    if (!m) this.keys.set(scope, (m = new Map()));
    const at = m.get(key);
    if (at !== undefined && at > now - windowMs) return true;
    m.set(key, now);
    const last = this.purged.get(scope);
    if (last === undefined || now - last >= windowMs) {
      this.purged.set(scope, now);
      for (const [k, t] of m) if (t <= now - windowMs) m.delete(k);
    }
    return false;
  }
}

/**
 * One side of a replay (the routes before, or after): runs chains in the order events arrived.
 * Each side keeps its own dedup memory, shared by the routes that use one dedup transform, as
 * the executor's store shares it.
 */
export class ChainRunner {
  private readonly memory = new ReplayedSeen();

  run(chain: readonly TrafficTransform[], event: OrgEvent, receivedAtMs: number): ChainResult {
    return runSteps(chain, (t) => {
      try {
        return this.decide(t, event, receivedAtMs);
      } catch {
        return 'error';
      }
    })!;
  }

  private decide(t: TrafficTransform, event: OrgEvent, now: number): 'pass' | 'drop' {
    if (t.type === 'filter') return filterDropReason(t.config, event) === null ? 'pass' : 'drop';
    // the memory is per transform name, like the store's keys; the key values need no hashing here
    return this.memory.seen(t.name, dedupKeyValues(t.config, event), dedupWindowMs(t.config), now) ? 'drop' : 'pass';
  }
}

/**
 * A chain run step by step: each evaluated transform's outcome comes from `decide`, which may
 * answer null (it cannot tell), and then so does the chain, unless an earlier step decided.
 */
function runSteps(chain: readonly TrafficTransform[], decide: (t: TrafficTransform) => 'pass' | 'drop' | 'error' | null): ChainResult | null {
  const steps: StepDecision[] = [];
  for (const t of chain) {
    if (notEvaluatedReason(t) !== null) {
      steps.push('not_evaluated');
      continue;
    }
    const outcome = decide(t);
    if (outcome === null) return null;
    steps.push(outcome);
    if (outcome === 'pass') continue;
    // on_error as in engine/run/pipeline.ts: pass goes on, drop drops, halt (or unset) fails
    if (outcome === 'error' && t.onError === 'pass') continue;
    if (outcome === 'error' && t.onError === 'drop') return { decision: 'drop', steps };
    return { decision: outcome, steps };
  }
  return { decision: 'pass', steps };
}

/** The fields a filter transform tests: the paths of its match, match_any and exclude maps. */
export function filterFields(config: Record<string, unknown>): string[] {
  const fields: string[] = [];
  for (const k of ['match', 'match_any', 'exclude']) {
    const spec = config[k];
    if (spec && typeof spec === 'object' && !Array.isArray(spec)) fields.push(...Object.keys(spec));
  }
  return fields;
}

/**
 * What a chain decides for every event that shares the fields `known` names, from an event made
 * of those fields alone; null when that takes more: a dedup (its memory depends on the events
 * before), or a filter testing another field, reached before any step decided.
 */
export function decideOnFields(chain: readonly TrafficTransform[], event: OrgEvent, known: ReadonlySet<string>): ChainResult | null {
  return runSteps(chain, (t) => {
    if (t.type !== 'filter' || !filterFields(t.config).every((f) => known.has(f))) return null;
    try {
      return filterDropReason(t.config, event) === null ? 'pass' : 'drop';
    } catch {
      return 'error';
    }
  });
}

/**
 * Routes with their transform chains, from resources' specs (a snapshot's attributes or a loaded
 * project's specs). A route's reference `{ ref, config, on_error }` wins over the declaration's,
 * as in engine/run/graph.ts.
 */
export function trafficRoutes(resources: Iterable<{ kind: string; name: string; provider: string; spec: Record<string, any> }>, defaultMaxHops: number): Map<string, TrafficRoute> {
  const all = [...resources];
  const transforms = new Map<string, TrafficTransform>();
  for (const r of all) {
    if (r.kind !== 'transform') continue;
    const s = r.spec;
    transforms.set(r.name, {
      name: r.name,
      type: r.provider,
      config: (s.config ?? {}) as Record<string, unknown>,
      ...(typeof s.on_error === 'string' ? { onError: s.on_error as TrafficTransform['onError'] } : {}),
    });
  }
  const out = new Map<string, TrafficRoute>();
  for (const r of all) {
    if (r.kind !== 'route') continue;
    const s = r.spec;
    const chain: TrafficTransform[] = [];
    for (const ref of (s.transforms ?? []) as Array<string | { ref: string; on_error?: TrafficTransform['onError']; config?: Record<string, unknown> }>) {
      const name = typeof ref === 'string' ? ref : ref.ref;
      // an undeclared transform is a validate error; here it is simply a transform we cannot run
      const t = transforms.get(name) ?? { name, type: 'undeclared', config: {} };
      if (typeof ref === 'string' || (!ref.config && !ref.on_error)) chain.push(t);
      else chain.push({ ...t, config: { ...t.config, ...(ref.config ?? {}) }, ...(ref.on_error ? { onError: ref.on_error } : {}) });
    }
    out.set(r.name, {
      name: r.name,
      source: s.when?.source ?? '',
      events: Array.isArray(s.when?.events) ? s.when.events : [],
      ...(s.when?.filter ? { filter: s.when.filter as Record<string, unknown> } : {}),
      actor: s.then?.actor ?? '',
      maxHops: typeof s.max_hops === 'number' ? s.max_hops : defaultMaxHops,
      transforms: chain,
    });
  }
  return out;
}
