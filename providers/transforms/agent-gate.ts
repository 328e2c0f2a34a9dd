// Transform `agent-gate` (OrgLoop's @orgloop/transform-agent-gate): lets an event through only
// while no agent session is running. For each event it lists agent-ctl's sessions
// (`<agent-ctl> list --json`, providers/lib/agent-ctl.ts) and counts those whose status is one
// of `active_statuses` (default [running]) and, with `adapter_filter`, whose adapter is that
// one. Any such session closes the gate: the event is dropped. None: it passes unchanged.
// It fails open, as upstream: when the listing cannot be had (program missing, timeout, bad
// output) the event passes, with a warning.
//
// A typical use: a supervisor route on `session.stopped` that should wake the supervisor only
// once the last of several parallel agents has finished.
//
// Events arriving while a listing runs share its answer, so a burst starts one process.

import type { OrgEvent, ProviderContext, TransformProvider, TransformResult } from '../types.js';
import { CONTRACT_VERSION } from '../contract.js';
import { agentCtlBinary, listSessions, timeoutIssues, timeoutMs, timeoutProperty } from '../lib/agent-ctl.js';

export const DEFAULT_GATE_TIMEOUT_MS = 5000;
const DEFAULT_ACTIVE = ['running'];

/** Why the gate is closed for these sessions, or null when it is open. */
export function gateClosedBy(sessions: Array<{ status: string; adapter: string; id?: string }>, config: Record<string, unknown>): string | null {
  const statuses = Array.isArray(config.active_statuses) ? (config.active_statuses as string[]) : DEFAULT_ACTIVE;
  const adapter = typeof config.adapter_filter === 'string' && config.adapter_filter ? config.adapter_filter : undefined;
  const active = sessions.filter((s) => statuses.includes(s.status) && (!adapter || s.adapter === adapter));
  if (active.length === 0) return null;
  const ids = active.slice(0, 3).map((s) => s.id ?? '?');
  return `agent-gate: ${active.length} ${adapter ? `${adapter} ` : ''}session(s) ${statuses.join('/')} (${ids.join(', ')}${active.length > 3 ? ', ...' : ''})`;
}

/** last warning per config, so a burst of events with agent-ctl missing warns once a minute */
const warnedAt = new WeakMap<object, number>();
const WARN_EVERY_MS = 60_000;

async function transform(ctx: ProviderContext, event: OrgEvent): Promise<TransformResult> {
  const binary = agentCtlBinary(ctx.config, ctx.env);
  let sessions;
  try {
    sessions = await listSessions(binary, timeoutMs(ctx.config.timeout, DEFAULT_GATE_TIMEOUT_MS));
  } catch (err) {
    const now = Date.now();
    if (now - (warnedAt.get(ctx.config) ?? 0) >= WARN_EVERY_MS) {
      warnedAt.set(ctx.config, now);
      ctx.log.warn(`agent-gate ${ctx.name}: could not list sessions, letting events through: ${(err as Error).message}`);
    }
    return { action: 'pass', event };
  }
  const closed = gateClosedBy(sessions, ctx.config);
  return closed ? { action: 'drop', reason: closed } : { action: 'pass', event };
}

export const agentGateTransform: TransformProvider = {
  kind: 'transform',
  name: 'agent-gate',
  contractVersion: CONTRACT_VERSION,
  description: 'Drops events while agent sessions are running (agent-ctl list --json); fails open',
  configSchema: {
    type: 'object',
    // OrgLoop rejects unknown keys here too
    additionalProperties: false,
    properties: {
      binary_path: { type: 'string', minLength: 1, description: 'the agent-ctl program (default: $AGENT_CTL_PATH, else agent-ctl on the PATH); ~ is the home directory' },
      adapter_filter: { type: 'string', minLength: 1, description: 'count only sessions of this adapter (e.g. claude-code)' },
      active_statuses: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, default: DEFAULT_ACTIVE, description: 'statuses that count as running (default [running])' },
      timeout: timeoutProperty('5s', 'how long one listing may take (default 5000 ms); past it the event passes'),
    },
  },
  validate: timeoutIssues,
  transform,
  async check(ctx) {
    const binary = agentCtlBinary(ctx.config, ctx.env);
    try {
      const list = await listSessions(binary, timeoutMs(ctx.config.timeout, DEFAULT_GATE_TIMEOUT_MS));
      const closed = gateClosedBy(list, ctx.config);
      return { ok: true, detail: `${binary} lists ${list.length} session(s); the gate is ${closed ? `closed now: ${closed.replace(/^agent-gate: /, '')}` : 'open now'}` };
    } catch (err) {
      return { ok: false, detail: `${(err as Error).message} (events would pass: the gate fails open)` };
    }
  },
};

export default agentGateTransform;
