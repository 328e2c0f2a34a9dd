// Source `docker` (polling): container lifecycle and health events from the Docker Engine's
// event log (`GET /events?since&until`, which ends once `until` is reached, so each poll is one
// finite read of the window since the last event it stored).
//
// Events (`provenance.platform_event`): container.create, container.start, container.die (with
// `exit_code`), container.stop, container.kill, container.restart, container.oom,
// container.destroy, container.healthy / container.unhealthy (health_status changes), and
// `container.<action>` for others. Dedupe key: `<id>:<action>:<timeNano>`.
// Cursor (JSON, committed with the events): { v: 1, since: "<unix>.<nanoseconds>" } — the
// newest event time read; the next window starts there (inclusive: the event at that instant
// comes back and its dedupe key absorbs it).

import type { EmittedEvent, PollResult, ProviderContext, SourceProvider } from '../types.js';
import { durationOr } from '../lib/duration.js';
import { INITIAL_LOOKBACK_PROPERTY } from '../lib/poll-window.js';
import { DEFAULT_DOCKER_SOCKET, dockerError, dockerEvents, dockerRequest, dockerTarget } from '../lib/docker-api.js';
import { readCursor } from '../lib/cursor.js';

interface Cursor {
  v: 1;
  since?: string;
}

function parseCursor(raw: string | null): Cursor {
  return readCursor<Cursor>(raw, () => ({ v: 1 }));
}

const nanoString = (ns: bigint) => `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;

export function dockerEvent(e: any): EmittedEvent {
  const rawAction = String(e.Action ?? e.status ?? '');
  const action = rawAction.startsWith('health_status') ? rawAction.replace(/^health_status:\s*/, '') : rawAction.split(':')[0]!.trim();
  const attrs = (e.Actor?.Attributes ?? {}) as Record<string, string>;
  const id = String(e.Actor?.ID ?? e.id ?? '');
  const labels = Object.fromEntries(Object.entries(attrs).filter(([k]) => !['name', 'image', 'exitCode'].includes(k)));
  return {
    type: 'resource.changed',
    dedupe_key: `${id}:${rawAction}:${e.timeNano ?? e.time}`,
    time: new Date(Number(BigInt(e.timeNano ?? BigInt(e.time) * 1_000_000_000n) / 1_000_000n)).toISOString(),
    provenance: { platform: 'docker', platform_event: `${e.Type ?? 'container'}.${action}`, author: 'docker', author_type: 'system' },
    payload: {
      container_id: id,
      name: attrs.name ?? null,
      title: attrs.name ?? null,
      image: attrs.image ?? e.from ?? null,
      action,
      exit_code: attrs.exitCode !== undefined ? Number(attrs.exitCode) : null,
      labels,
    },
  };
}

async function poll(ctx: ProviderContext, raw: string | null): Promise<PollResult> {
  const c = parseCursor(raw);
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const since = c.since ?? nanoString(nowNs - BigInt(durationOr(ctx.config.initial_lookback, 0)) * 1_000_000n);
  const filters: Record<string, string[]> = { type: ['container'] };
  if (Array.isArray(ctx.config.containers) && ctx.config.containers.length) filters.container = ctx.config.containers as string[];
  if (Array.isArray(ctx.config.labels) && ctx.config.labels.length) filters.label = ctx.config.labels as string[];
  if (Array.isArray(ctx.config.actions) && ctx.config.actions.length) filters.event = ctx.config.actions as string[];
  const list = await dockerEvents(dockerTarget(ctx.config), since, nanoString(nowNs), filters, ctx.signal);
  const [s, frac = '0'] = since.split('.');
  let newest = BigInt(s!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9));
  const events: EmittedEvent[] = [];
  for (const e of list) {
    events.push(dockerEvent(e));
    const t = e.timeNano !== undefined ? BigInt(e.timeNano) : BigInt(e.time) * 1_000_000_000n;
    if (t > newest) newest = t;
  }
  return { events, cursor: JSON.stringify({ v: 1, since: nanoString(newest) }) };
}

async function check(ctx: ProviderContext): Promise<{ ok: boolean; detail: string }> {
  try {
    const r = await dockerRequest(dockerTarget(ctx.config), 'GET', '/version', undefined, { timeoutMs: 10_000 });
    if (r.status !== 200) throw dockerError('version', r);
    const v = JSON.parse(r.text) as { Version?: string; ApiVersion?: string };
    return { ok: true, detail: `Docker Engine ${v.Version} (API ${v.ApiVersion}) reachable` };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

export const dockerSource: SourceProvider = {
  kind: 'source',
  name: 'docker',
  description: 'Container lifecycle and health events from the Docker Engine API',
  polling: true,
  configSchema: {
    type: 'object',
    properties: {
      socket: { type: 'string', description: `unix socket (default ${DEFAULT_DOCKER_SOCKET})` },
      host: { type: 'string', description: 'tcp://host:2375 or unix:///path (instead of socket)' },
      containers: { type: 'array', items: { type: 'string' }, description: 'only these container names or ids' },
      labels: { type: 'array', items: { type: 'string' }, description: 'only containers with these labels (key or key=value)' },
      actions: { type: 'array', items: { type: 'string' }, description: 'only these actions (start, die, health_status...)' },
      initial_lookback: INITIAL_LOOKBACK_PROPERTY,
    },
    additionalProperties: false,
  },
  poll,
  check,
};

export default dockerSource;
