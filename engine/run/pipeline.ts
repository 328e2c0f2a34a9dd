// The per-route transform chain: each transform sees the event the previous one produced.
// Shared by the delivery workers and `orgloop test` (which reports every step).

import type { LogEntry, OrgEvent, TransformStore } from '../../providers/types.js';
import type { RuntimeRoute } from './graph.js';

export interface TransformStep {
  transform: string;
  type: string;
  action: 'pass' | 'drop' | 'error';
  detail?: string;
}

export type PipelineResult =
  | { action: 'pass'; event: OrgEvent; steps: TransformStep[] }
  | { action: 'drop'; transform: string; reason: string; steps: TransformStep[] }
  | { action: 'error'; transform: string; error: string; steps: TransformStep[] };

export async function runTransforms(
  route: RuntimeRoute,
  event: OrgEvent,
  store: (scope: string) => TransformStore,
  log?: (e: Omit<LogEntry, 'time'>) => void,
): Promise<PipelineResult> {
  const steps: TransformStep[] = [];
  let current = event;
  for (const t of route.transforms) {
    let r;
    try {
      r = await t.provider.transform(t.ctx, current, store(t.name), { route: route.name, actor: route.actor });
    } catch (err) {
      r = { action: 'error' as const, error: (err as Error).message ?? String(err) };
    }
    if (r.action === 'pass') {
      steps.push({ transform: t.name, type: t.provider.name, action: 'pass' });
      log?.({ phase: 'transform.pass', level: 'debug', message: `transform ${t.name} passed` , data: { transform: t.name } });
      current = r.event;
      continue;
    }
    if (r.action === 'drop') {
      steps.push({ transform: t.name, type: t.provider.name, action: 'drop', detail: r.reason });
      log?.({ phase: 'transform.drop', level: 'info', message: `transform ${t.name} dropped the event: ${r.reason}`, data: { transform: t.name } });
      return { action: 'drop', transform: t.name, reason: r.reason, steps };
    }
    steps.push({ transform: t.name, type: t.provider.name, action: 'error', detail: r.error });
    // on_error (OrgLoop's transform error policy): pass = fail open with the event as it was,
    // drop = fail closed; halt (or none set) fails the delivery, which is retried.
    if (t.onError === 'pass') {
      log?.({ phase: 'transform.error', level: 'warn', message: `transform ${t.name} failed (on_error: pass, the event goes on unchanged): ${r.error}`, data: { transform: t.name } });
      continue;
    }
    if (t.onError === 'drop') {
      log?.({ phase: 'transform.drop', level: 'warn', message: `transform ${t.name} failed (on_error: drop): ${r.error}`, data: { transform: t.name } });
      return { action: 'drop', transform: t.name, reason: `error: ${r.error}`, steps };
    }
    log?.({ phase: 'transform.error', level: 'warn', message: `transform ${t.name} failed: ${r.error}`, data: { transform: t.name } });
    return { action: 'error', transform: t.name, error: r.error, steps };
  }
  return { action: 'pass', event: current, steps };
}

/** An in-memory TransformStore for dry runs: nothing is recorded in the real store. */
export function memoryTransformStore(): (scope: string) => TransformStore {
  const seen = new Map<string, number>();
  return (scope) => ({
    async seen(key: string, windowMs: number) {
      const k = scope + '\u0000' + key;
      const now = Date.now();
      const at = seen.get(k);
      seen.set(k, now);
      return at !== undefined && now - at < windowMs;
    },
  });
}
