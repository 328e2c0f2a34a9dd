// The lifecycle contract of coding-agent sessions (OrgLoop's spec/lifecycle-contract): every
// harness connector (claude-code, codex, opencode, pi, pi-rust, coding-agent, agent-ctl) puts
// `payload.lifecycle` and `payload.session` beside its own fields, names the transition
// `session.<phase>` in provenance, and emits `actor.stopped` for terminal phases and
// `resource.changed` for the others, so one route can supervise any harness.

export type Phase = 'started' | 'active' | 'completed' | 'failed' | 'stopped';
export type Outcome = 'success' | 'failure' | 'cancelled' | 'unknown';

export const TERMINAL: ReadonlySet<string> = new Set(['completed', 'failed', 'stopped']);
export const HARNESSES: readonly string[] = ['claude-code', 'codex', 'opencode', 'pi', 'pi-rust', 'other'];

export interface Transition {
  phase: Phase;
  outcome?: Outcome;
  reason?: string;
}

const SIGNALS: Record<number, string> = { 2: 'sigint', 9: 'sigkill', 15: 'sigterm' };

/** A process exit status read the way a shell reports it: 0 done, 1-127 failed, 128+N killed by signal N. */
export function fromExitStatus(exitStatus: number): Transition {
  if (exitStatus === 0) return { phase: 'completed', outcome: 'success', reason: 'exit_code_0' };
  if (exitStatus > 128) return { phase: 'stopped', outcome: 'cancelled', reason: SIGNALS[exitStatus - 128] ?? `signal_${exitStatus - 128}` };
  return { phase: 'failed', outcome: 'failure', reason: `exit_code_${exitStatus}` };
}

export const eventTypeFor = (phase: string): string => (TERMINAL.has(phase) ? 'actor.stopped' : 'resource.changed');

export interface SessionFacts {
  id: string;
  /** provenance.platform and session.adapter */
  platform: string;
  harness: string;
  cwd?: string | null;
  exitStatus?: number | null;
  /** when the transition happened (ISO) */
  at: string;
  meta?: Record<string, unknown>;
}

/** `payload.lifecycle` and `payload.session` for one transition. */
export function lifecyclePayload(t: Transition, s: SessionFacts): { lifecycle: Record<string, unknown>; session: Record<string, unknown> } {
  const terminal = TERMINAL.has(t.phase);
  const lifecycle: Record<string, unknown> = { phase: t.phase, terminal };
  if (terminal) lifecycle.outcome = t.outcome ?? 'unknown';
  if (t.reason) lifecycle.reason = t.reason;
  lifecycle.dedupe_key = `${s.platform}:${s.id}:${t.phase}`;
  const session: Record<string, unknown> = { id: s.id, adapter: s.platform, harness: s.harness };
  if (s.cwd) session.cwd = s.cwd;
  if (terminal) {
    session.ended_at = s.at;
    session.exit_status = s.exitStatus ?? 0;
  } else session.started_at = s.at;
  if (s.meta) session.meta = s.meta;
  return { lifecycle, session };
}

/** The harness name for a platform or adapter: a known one, else `other`. */
export function harnessOf(name: string): string {
  return HARNESSES.includes(name) ? name : 'other';
}
