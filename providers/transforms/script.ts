// Transform `script`: runs `command` (sh -c string or argv) with the event JSON on stdin.
// Its stdout is the new event (top-level fields it omits keep their values; id, trace_id,
// parent_id and hops always stay the original's, so a script cannot break tracing or loop
// protection). Empty output drops the event. A non-zero exit, a timeout or output that is not
// a JSON object is an error, handled by `on_error`: pass (default: the original event goes on),
// drop, or halt (the transform errors and the delivery fails).
// `drop_exit_codes` lists exit codes that mean "drop" rather than an error: OrgLoop's script
// contract (exit 1 = drop), which the loader sets for transforms written as `type: script`
// with `script:`. The program also gets ORGLOOP_SOURCE, ORGLOOP_TARGET, ORGLOOP_EVENT_TYPE,
// ORGLOOP_ROUTE (and OrgLoop's documented SOURCE, TARGET, EVENT_TYPE).

import type { OrgEvent, ProviderContext, TransformProvider, TransformResult } from '../types.js';
import { durationIssue, parseDuration } from '../lib/duration.js';
import { COMMAND_PROPERTY, runProcess } from '../lib/process.js';

export const DEFAULT_SCRIPT_TIMEOUT = '30s';
const ON_ERROR = ['pass', 'drop', 'halt'] as const;

function onError(ctx: ProviderContext, event: OrgEvent, error: string): TransformResult {
  const policy = (ctx.config.on_error as string | undefined) ?? 'pass';
  if (policy === 'drop') return { action: 'drop', reason: `script error: ${error}` };
  if (policy === 'halt') return { action: 'error', error: `script error: ${error}` };
  ctx.log.warn(`script transform ${ctx.name} failed; passing the event unchanged`, { error });
  return { action: 'pass', event };
}

export async function runScriptTransform(ctx: ProviderContext, event: OrgEvent, at?: { route: string; actor: string }): Promise<TransformResult> {
  const timeoutMs = parseDuration((ctx.config.timeout as string | undefined) ?? DEFAULT_SCRIPT_TIMEOUT);
  const where = {
    ORGLOOP_SOURCE: event.source,
    ORGLOOP_EVENT_TYPE: event.type,
    SOURCE: event.source,
    EVENT_TYPE: event.type,
    ...(at ? { ORGLOOP_ROUTE: at.route, ORGLOOP_TARGET: at.actor, TARGET: at.actor } : {}),
  };
  const r = await runProcess({
    command: ctx.config.command as string | string[],
    cwd: ctx.projectDir,
    env: { ...process.env, ...where, ORGLOOP_TRANSFORM: ctx.name, ORGLOOP_EVENT_ID: event.id, ORGLOOP_TRACE_ID: event.trace_id },
    stdin: JSON.stringify(event),
    timeoutMs,
    signal: ctx.signal,
    captureStdout: true,
  });
  if (r.spawnError) return onError(ctx, event, `could not start: ${r.spawnError}`);
  if (r.timedOut) return onError(ctx, event, `timed out after ${timeoutMs}ms`);
  const dropCodes = ctx.config.drop_exit_codes;
  if (r.exitCode !== null && r.exitCode !== 0 && Array.isArray(dropCodes) && dropCodes.includes(r.exitCode)) {
    return { action: 'drop', reason: `script ${ctx.name} exited with code ${r.exitCode}` };
  }
  if (r.exitCode !== 0) {
    const why = r.exitCode === null ? `killed by ${r.signal}` : `exited with code ${r.exitCode}`;
    const err = r.stderrTail.trim().split('\n').slice(-3).join(' | ').slice(-300);
    return onError(ctx, event, err ? `${why}: ${err}` : why);
  }
  if (r.stdoutTruncated) return onError(ctx, event, 'output too large');
  const text = r.stdout.trim();
  if (text === '') return { action: 'drop', reason: `script ${ctx.name} printed nothing` };
  let out: unknown;
  try {
    out = JSON.parse(text);
  } catch (err) {
    return onError(ctx, event, `output is not JSON: ${(err as Error).message}`);
  }
  if (out === null || typeof out !== 'object' || Array.isArray(out)) return onError(ctx, event, 'output must be a JSON object (an event)');
  const next = { ...event, ...(out as Partial<OrgEvent>) } as OrgEvent;
  next.id = event.id;
  next.trace_id = event.trace_id;
  next.parent_id = event.parent_id;
  next.hops = event.hops;
  if (next.payload === null || typeof next.payload !== 'object' || Array.isArray(next.payload)) {
    return onError(ctx, event, 'output payload must be an object');
  }
  if (typeof next.type !== 'string' || next.type === '') return onError(ctx, event, 'output type must be a non-empty string');
  return { action: 'pass', event: next };
}

export const scriptTransform: TransformProvider = {
  kind: 'transform',
  name: 'script',
  description: 'Pipes the event through a program: stdout is the new event, empty output drops it.',
  configSchema: {
    type: 'object',
    additionalProperties: true,
    required: ['command'],
    properties: {
      command: COMMAND_PROPERTY,
      timeout: { type: 'string', description: 'default 30s' },
      on_error: { type: 'string', enum: [...ON_ERROR], default: 'pass' },
      drop_exit_codes: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 255 }, description: 'exit codes meaning "drop the event" (OrgLoop scripts: [1])' },
    },
  },
  validate(config) {
    const t = durationIssue(config, 'timeout');
    return t ? [t] : [];
  },
  transform: (ctx, event, _store, at) => runScriptTransform(ctx, event, at),
};
