// Benchmark 4: routing cost per event with 10, 1,000 and 10,000 routes, using the executor's
// router (engine/run/router.ts) directly. Routes are shaped like the generated projects: about
// five routes per source, a mix of event types, 60% with a provenance filter. Events come from
// random sources with random platform events, so some match and most filters are evaluated.

import { Router, type RoutableRoute } from '../engine/run/router.js';
import type { OrgEvent } from '../providers/types.js';
import { median, round } from './lib/measure.js';
import type { BenchResult } from './lib/report.js';

const PLATFORM_EVENTS = ['pull_request.opened', 'pull_request_review.submitted', 'issue_comment.created', 'push', 'workflow_run.completed', 'release.published', 'deployment.created'];
const ROUTES_PER_SOURCE = 5;
const EVENTS = 2_000;
const ROUNDS = 200;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * n routes, about ROUTES_PER_SOURCE per source. Every source gets the same routes (drawn once),
 * so an event has the same candidates and matches at every size and only the number of routes
 * differs: drawing each route independently gave the 10-route set 0.66 matches per event against
 * 1.4 at 10,000, which measured the draw rather than the router.
 */
function routes(n: number, sources: number, rand: () => number): RoutableRoute[] {
  const perSource = Array.from({ length: ROUTES_PER_SOURCE }, () => {
    const pe = PLATFORM_EVENTS[Math.floor(rand() * PLATFORM_EVENTS.length)]!;
    return {
      events: rand() < 0.5 ? ['resource.changed'] : [pe],
      filter: rand() < 0.6 ? { 'provenance.platform_event': PLATFORM_EVENTS[Math.floor(rand() * PLATFORM_EVENTS.length)] } : undefined,
    };
  });
  return Array.from({ length: n }, (_, i) => ({ name: `route-${i}`, source: `src-${i % sources}`, ...perSource[Math.floor(i / sources) % ROUTES_PER_SOURCE]! }));
}

function events(sources: number, rand: () => number): OrgEvent[] {
  return Array.from({ length: EVENTS }, (_, i) => ({
    id: `ev-${i}`,
    type: 'resource.changed',
    source: `src-${Math.floor(rand() * sources)}`,
    time: new Date().toISOString(),
    provenance: { platform: 'github', platform_event: PLATFORM_EVENTS[Math.floor(rand() * PLATFORM_EVENTS.length)]!, author: 'alice', author_type: 'user' },
    payload: { id: i, title: 'x' },
    trace_id: `tr-${i}`,
    parent_id: null,
    hops: 0,
  }) as OrgEvent);
}

/** ns per event: median over ROUNDS passes over the same events. */
function measure(n: number): { routes: number; ns_per_event: number; matched_per_event: number } {
  const rand = rng(7);
  const sources = Math.max(1, Math.round(n / ROUTES_PER_SOURCE));
  const router = new Router(routes(n, sources, rand));
  const evs = events(sources, rand);
  let matched = 0;
  for (let r = 0; r < 50; r++) for (const e of evs) matched += router.match(e).length; // warm up the JIT
  matched = 0;
  const perRound: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (const e of evs) matched += router.match(e).length;
    perRound.push(Number(process.hrtime.bigint() - t0) / EVENTS);
  }
  return { routes: n, ns_per_event: round(median(perRound), 0), matched_per_event: round(matched / (EVENTS * ROUNDS), 2) };
}

export async function run(): Promise<BenchResult> {
  const sizes = [10, 1_000, 10_000].map(measure);
  const [small, , large] = sizes;
  const ratio = large!.ns_per_event / small!.ns_per_event;
  return {
    name: 'routing',
    metrics: { routes_per_source: ROUTES_PER_SOURCE, events: EVENTS, rounds: ROUNDS, sizes, ratio_10k_to_10: round(ratio, 2) },
    checks: [{ target: 'cost at 10,000 routes within 2x of 10 routes', measured: `${round(ratio, 2)}x`, pass: ratio <= 2 }],
    info: sizes.map((s) => ({ what: `${s.routes} routes`, measured: `${s.ns_per_event} ns/event (${s.matched_per_event} matches/event)` })),
  };
}
