// Source `agent-ctl` (polling): coding-agent sessions as lifecycle events, read from agent-ctl's
// session registry the way OrgLoop's agent-ctl connector reads it: each poll runs
// `<agent-ctl> list --json` (providers/lib/agent-ctl.ts) and compares the sessions with those
// the previous poll saw.
//
//   appeared running/idle         session.started  resource.changed
//   running -> idle               session.active   resource.changed (reason idle, action session.idle)
//   any other -> running          session.active   resource.changed (reason running)
//   -> stopped, or appeared so    session.stopped  actor.stopped (outcome unknown, reason session_stopped)
//   -> error, or appeared so      session.failed   actor.stopped (outcome failure, reason session_error)
//   disappeared while not stopped session.stopped  actor.stopped (from the last state seen)
//
// Payload: `lifecycle` and `session` (OrgLoop's lifecycle contract; dedupe_key
// `<harness>:<id>:<phase>`, harness from the adapter: claude-code, codex, opencode, pi, pi-rust,
// else other) beside upstream's flat fields: action, session_id, adapter, status, started_at,
// stopped_at, cwd, spec, model, tokens, cost, pid, meta.
//
// Cursor (JSON, committed with the events): { v: 1, sessions: { <id>: <session as last listed> } }.
// Upstream keeps the previous listing in memory, so a restart announces every running session
// again and misses what ended while it was down; here a restart carries on from the committed
// listing. A listing that fails (program missing, timeout, bad JSON) fails the poll and keeps
// the cursor; upstream treats it as an empty listing, which would report every session stopped.

import type { EmittedEvent, PollResult, ProviderContext, SourceProvider } from '../types.js';
import { CONTRACT_VERSION } from '../contract.js';
import { agentCtlBinary, listSessions, timeoutIssues, timeoutMs, timeoutProperty, type AgentSession } from '../lib/agent-ctl.js';
import { readCursor } from '../lib/cursor.js';
import { eventTypeFor, TERMINAL, type Outcome, type Phase } from '../lib/lifecycle.js';

export const DEFAULT_TIMEOUT_MS = 10_000;

interface Cursor {
  v: 1;
  sessions: Record<string, AgentSession>;
}

const HARNESS: Record<string, string> = { 'claude-code': 'claude-code', claude: 'claude-code', codex: 'codex', opencode: 'opencode', pi: 'pi', 'pi-rust': 'pi-rust' };
export const harnessOfAdapter = (adapter: string): string => HARNESS[adapter.toLowerCase()] ?? 'other';

type Change = 'session.started' | 'session.active' | 'session.stopped' | 'session.error';

function transition(change: Change, reason?: string): { phase: Phase; outcome?: Outcome; reason?: string } {
  switch (change) {
    case 'session.started':
      return { phase: 'started' };
    case 'session.active':
      return { phase: 'active', ...(reason ? { reason } : {}) };
    case 'session.stopped':
      return { phase: 'stopped', outcome: 'unknown', reason: 'session_stopped' };
    case 'session.error':
      return { phase: 'failed', outcome: 'failure', reason: 'session_error' };
  }
}

const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** The event for one session change, in upstream's shape. */
export function sessionEvent(change: Change, s: AgentSession, now: string, opts: { action?: string; reason?: string } = {}): EmittedEvent {
  const harness = harnessOfAdapter(s.adapter);
  const t = transition(change, opts.reason);
  const terminal = TERMINAL.has(t.phase);
  const lifecycle = defined({ phase: t.phase, terminal, outcome: terminal ? t.outcome : undefined, reason: t.reason, dedupe_key: `${harness}:${s.id}:${t.phase}` });
  const session = defined({ id: s.id, adapter: s.adapter, harness, cwd: s.cwd, started_at: s.startedAt, ended_at: terminal ? (s.stoppedAt ?? now) : undefined });
  return {
    type: eventTypeFor(t.phase),
    provenance: { platform: 'agent-ctl', platform_event: `session.${t.phase}`, author: s.adapter, author_type: 'bot', session_id: s.id },
    payload: {
      lifecycle,
      session,
      ...defined({
        action: opts.action ?? change,
        session_id: s.id,
        adapter: s.adapter,
        status: s.status,
        started_at: s.startedAt,
        stopped_at: s.stoppedAt,
        cwd: s.cwd,
        spec: s.spec,
        model: s.model,
        tokens: s.tokens,
        cost: s.cost,
        pid: s.pid,
        meta: s.meta,
      }),
    },
  };
}

/** Events for the change from `prev` to `current` listings (both by id), in listing order. */
export function diffSessions(prev: Record<string, AgentSession>, current: AgentSession[], now: string): EmittedEvent[] {
  const events: EmittedEvent[] = [];
  const seen = new Set<string>();
  for (const s of current) {
    seen.add(s.id);
    const before = prev[s.id];
    if (!before) {
      if (s.status === 'running' || s.status === 'idle') events.push(sessionEvent('session.started', s, now));
      else if (s.status === 'stopped') events.push(sessionEvent('session.stopped', s, now));
      else if (s.status === 'error') events.push(sessionEvent('session.error', s, now));
      continue;
    }
    if (before.status === s.status) continue;
    if (s.status === 'stopped') events.push(sessionEvent('session.stopped', s, now));
    else if (s.status === 'error') events.push(sessionEvent('session.error', s, now));
    else if (s.status === 'idle' && before.status === 'running') events.push(sessionEvent('session.active', s, now, { action: 'session.idle', reason: 'idle' }));
    else if (s.status === 'running') events.push(sessionEvent('session.active', s, now, { action: 'session.active', reason: 'running' }));
  }
  for (const [id, before] of Object.entries(prev)) {
    if (!seen.has(id) && before.status !== 'stopped') events.push(sessionEvent('session.stopped', { ...before, status: 'stopped' }, now));
  }
  return events;
}

const settings = (ctx: ProviderContext) => ({
  binary: agentCtlBinary(ctx.config, ctx.env, { upstreamDefault: true }),
  timeout: timeoutMs(ctx.config.timeout, DEFAULT_TIMEOUT_MS),
});

async function poll(ctx: ProviderContext, raw: string | null): Promise<PollResult> {
  const prev = readCursor<Cursor>(raw, () => ({ v: 1, sessions: {} }), (c) => !!c.sessions && typeof c.sessions === 'object').sessions;
  const { binary, timeout } = settings(ctx);
  const current = await listSessions(binary, timeout, ctx.signal);
  const events = diffSessions(prev, current, new Date().toISOString());
  const sessions: Record<string, AgentSession> = {};
  for (const s of current) sessions[s.id] = s;
  return { events, cursor: JSON.stringify({ v: 1, sessions }) };
}

async function check(ctx: ProviderContext): Promise<{ ok: boolean; detail: string }> {
  const { binary, timeout } = settings(ctx);
  try {
    const list = await listSessions(binary, timeout);
    const running = list.filter((s) => s.status === 'running' || s.status === 'idle').length;
    return { ok: true, detail: `${binary} lists ${list.length} session(s), ${running} running or idle` };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

export const agentCtlSource: SourceProvider = {
  kind: 'source',
  name: 'agent-ctl',
  contractVersion: CONTRACT_VERSION,
  description: "Coding-agent sessions from agent-ctl's registry (agent-ctl list --json) as lifecycle events",
  polling: true,
  emits: ['actor.stopped'],
  platformEvents: ['session.started', 'session.active', 'session.stopped', 'session.failed'],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      binary_path: { type: 'string', minLength: 1, description: 'the agent-ctl program (default: $AGENT_CTL_PATH, else ~/personal/agent-ctl/agent-ctl if present, else agent-ctl on the PATH); ~ is the home directory' },
      timeout: timeoutProperty('10s', 'how long one listing may take (default 10000 ms)'),
    },
  },
  validate: timeoutIssues,
  poll,
  check,
};

export default agentCtlSource;
