// `orgloop test EVENT.json`: route an event and run each matched route's transforms without
// delivering anything or writing to the store. Reports why routes of the same source did not match.

import type { Logger, OrgEvent } from '../../providers/types.js';
import type { LoadedProject } from '../graph/types.js';
import { renderDeep } from '../../providers/lib/template.js';
import { compileFieldMatchers } from '../../providers/lib/match.js';
import { getPath } from '../../providers/lib/path.js';
import { buildGraph, routeEvent, type Graph, type GraphInput } from './graph.js';
import { graphDeps } from './executor.js';
import { memoryTransformStore, runTransforms, type TransformStep } from './pipeline.js';

export interface DryRunRoute {
  route: string;
  actor: string;
  result: 'deliver' | 'drop' | 'error' | 'loop-cut';
  steps: TransformStep[];
  /** then.config rendered against the (transformed) event */
  config: Record<string, unknown>;
  prompt_chars: number | null;
  event?: OrgEvent;
  detail?: string;
}

export interface DryRunReport {
  event: OrgEvent;
  matched: DryRunRoute[];
  unmatched: Array<{ route: string; reason: string }>;
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export function inputFromProject(project: LoadedProject): GraphInput {
  return {
    serial: 0,
    project: { name: project.name, dir: project.dir },
    resources: project.resources.map((r) => ({
      kind: r.kind,
      name: r.name,
      provider: r.provider,
      spec: r.spec as unknown as Record<string, any>,
      prompt: r.prompt ? (project.prompts[r.prompt.sha256] ?? null) : null,
    })),
  };
}

export function buildDryGraph(input: GraphInput): Graph {
  return buildGraph(input, graphDeps(input.project.dir, () => quiet));
}

/** Normalizes what a user wrote in EVENT.json into a full event. */
export function eventFromJson(raw: unknown): OrgEvent {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('the event must be a JSON object');
  const e = raw as Record<string, any>;
  if (typeof e.source !== 'string' || !e.source) throw new Error('the event needs "source" (the source id, or the actor id for actor.stopped)');
  const id = typeof e.id === 'string' ? e.id : 'evt_test';
  return {
    id,
    type: typeof e.type === 'string' ? e.type : 'resource.changed',
    source: e.source,
    time: typeof e.time === 'string' ? e.time : new Date().toISOString(),
    provenance: e.provenance && typeof e.provenance === 'object' ? e.provenance : {},
    payload: e.payload && typeof e.payload === 'object' ? e.payload : {},
    trace_id: typeof e.trace_id === 'string' ? e.trace_id : id,
    parent_id: typeof e.parent_id === 'string' ? e.parent_id : null,
    hops: typeof e.hops === 'number' ? e.hops : 0,
  };
}

export async function dryRun(graph: Graph, event: OrgEvent): Promise<DryRunReport> {
  const { deliver, cut } = routeEvent(graph, event);
  const store = memoryTransformStore();
  const matched: DryRunRoute[] = [];
  for (const r of cut) {
    matched.push({ route: r.name, actor: r.actor, result: 'loop-cut', steps: [], config: {}, prompt_chars: null, detail: `hops ${event.hops} > max_hops ${r.maxHops}` });
  }
  for (const r of deliver) {
    const res = await runTransforms(r, structuredClone(event), store);
    const final = res.action === 'pass' ? res.event : event;
    matched.push({
      route: r.name,
      actor: r.actor,
      result: res.action === 'pass' ? 'deliver' : res.action,
      steps: res.steps,
      config: renderDeep(r.thenConfig, final),
      prompt_chars: r.prompt === null ? null : r.prompt.length,
      event: res.action === 'pass' ? res.event : undefined,
      detail: res.action === 'drop' ? res.reason : res.action === 'error' ? res.error : undefined,
    });
  }
  const hit = new Set([...deliver, ...cut].map((r) => r.name));
  const unmatched: DryRunReport['unmatched'] = [];
  for (const r of graph.routes.values()) {
    if (r.source !== event.source || hit.has(r.name)) continue;
    const pe = event.provenance.platform_event;
    if (r.events.length > 0 && !r.events.includes(event.type) && !(typeof pe === 'string' && r.events.includes(pe))) {
      unmatched.push({ route: r.name, reason: `event type ${event.type}${pe ? ` / ${pe}` : ''} not in [${r.events.join(', ')}]` });
      continue;
    }
    const failing = compileFieldMatchers(r.filter).find((f) => !f.test(getPath(event, f.parts)));
    unmatched.push({
      route: r.name,
      reason: failing ? `filter ${failing.path}: got ${JSON.stringify(getPath(event, failing.parts)) ?? 'nothing'}, want ${JSON.stringify(r.filter![failing.path])}` : 'did not match',
    });
  }
  return { event, matched, unmatched };
}
