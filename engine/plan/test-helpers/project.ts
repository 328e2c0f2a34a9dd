// Builds LoadedProject values directly (no YAML), so planner tests state exactly what they mean.

import { createHash } from 'node:crypto';
import type { DesiredResource, LoadedProject, RouteSpec } from '../../graph/types.js';
import { stateKeyFromText, type StateKey } from '../../secrets/index.js';

export interface MiniRoute {
  name: string;
  source: string;
  actor: string;
  events?: string[];
  filter?: Record<string, unknown>;
  max_hops?: number;
  prompt?: { file: string; text: string };
  transforms?: Array<string | { ref: string; config?: Record<string, unknown>; on_error?: 'pass' | 'drop' | 'halt' }>;
}

export interface MiniProject {
  sources?: Array<{ id: string; connector?: string; config?: Record<string, unknown>; templates?: Record<string, string> }>;
  actors?: Array<{ id: string; connector?: string; config?: Record<string, unknown>; templates?: Record<string, string> }>;
  routes?: MiniRoute[];
  transforms?: Array<{ name: string; type: string; config: Record<string, unknown>; on_error?: 'pass' | 'drop' | 'halt' }>;
  /** the project's `defaults` block (e.g. `sensitive`, `public`) */
  defaults?: Record<string, unknown>;
}

const pos = { file: 'orgloop.yaml', line: 1, col: 1 };

export function projectOf(p: MiniProject): LoadedProject {
  const resources: DesiredResource[] = [];
  const prompts: Record<string, string> = {};
  for (const s of p.sources ?? []) {
    const connector = s.connector ?? 'webhook';
    resources.push({
      address: `source.${s.id}`, kind: 'source', name: s.id, provider: connector,
      spec: { id: s.id, connector, config: s.config ?? {} }, templates: s.templates ?? {}, dependsOn: [], pos,
    });
  }
  for (const a of p.actors ?? []) {
    const connector = a.connector ?? 'command';
    resources.push({
      address: `actor.${a.id}`, kind: 'actor', name: a.id, provider: connector,
      spec: { id: a.id, connector, config: a.config ?? { command: 'true' } }, templates: a.templates ?? {}, dependsOn: [], pos,
    });
  }
  for (const t of p.transforms ?? []) {
    resources.push({
      address: `transform.${t.name}`, kind: 'transform', name: t.name, provider: t.type,
      spec: { name: t.name, type: t.type, config: t.config, ...(t.on_error ? { on_error: t.on_error } : {}) } as unknown as DesiredResource['spec'],
      templates: {}, dependsOn: [], pos,
    });
  }
  for (const r of p.routes ?? []) {
    const spec: RouteSpec = {
      name: r.name,
      when: { source: r.source, events: r.events ?? ['resource.changed'], ...(r.filter ? { filter: r.filter } : {}) },
      transforms: (r.transforms ?? []) as RouteSpec['transforms'],
      then: { actor: r.actor },
      ...(r.max_hops !== undefined ? { max_hops: r.max_hops } : {}),
    };
    const res: DesiredResource = {
      address: `route.${r.name}`, kind: 'route', name: r.name, provider: 'route', spec, templates: {},
      dependsOn: [
        (p.sources ?? []).some((s) => s.id === r.source) ? `source.${r.source}` : `actor.${r.source}`,
        `actor.${r.actor}`,
        ...(r.transforms ?? []).map((t) => `transform.${typeof t === 'string' ? t : t.ref}` as const),
      ],
      pos,
    };
    if (r.prompt) {
      spec.with = { prompt_file: r.prompt.file };
      const sha = createHash('sha256').update(r.prompt.text).digest('hex');
      prompts[sha] = r.prompt.text;
      res.prompt = { file: r.prompt.file, sha256: sha };
    }
    resources.push(res);
  }
  return { name: 'test', dir: '/tmp/project', file: '/tmp/project/orgloop.yaml', files: [], defaults: p.defaults ?? {}, resources, prompts, warnings: [] };
}

/** A fixed state key for tests that build snapshots directly. */
export function testKey(text = 'orgloop test key'): StateKey {
  return stateKeyFromText(text, 'test');
}
