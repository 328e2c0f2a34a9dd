// The hook input of each coding agent, made ready for its session source (`orgloop hook
// <agent>-start|-stop`, as OrgLoop names them): checked to be a session payload, marked start or
// stop for the source's lifecycle, and given a summary where the agent's input lacks one.

import { claudeCodeStopBody, type StopHookBody } from './claude-code.js';

/** Agents with start and stop hooks (OrgLoop's connector setups name `orgloop hook <agent>-<phase>`). */
export const HOOK_AGENTS = ['claude-code', 'codex', 'opencode', 'pi', 'pi-rust'] as const;
export type HookAgent = (typeof HOOK_AGENTS)[number];
export type HookPhase = 'start' | 'stop';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/**
 * The JSON to forward for one hook call. `raw` is the agent's input: stdin, or the JSON argument
 * Codex's `notify` program gets (`{"type":"agent-turn-complete","thread-id":..,"cwd":..,
 * "last-assistant-message":..}`), whose thread id is the session.
 */
export async function agentHookBody(agent: HookAgent, phase: HookPhase, raw: string): Promise<StopHookBody> {
  if (agent === 'claude-code' && phase === 'stop') return claudeCodeStopBody(raw);
  const what = `the ${agent} ${phase} hook input`;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(raw);
  } catch {
    return { ok: false, error: `input is not JSON (got ${JSON.stringify(raw.slice(0, 80))}); expected ${what}` };
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { ok: false, error: `input is not a JSON object; expected ${what}` };
  const out: Record<string, unknown> = { ...body };
  if (!str(out.session_id)) {
    const thread = str(body['thread-id']) ?? str(body.thread_id);
    if (thread) out.session_id = thread;
  }
  if (!str(out.summary)) {
    const last = str(body['last-assistant-message']) ?? str(body.last_assistant_message);
    if (last) out.summary = last;
  }
  if (typeof out.session_id !== 'string' || !out.session_id) return { ok: false, error: `input has no session_id; expected ${what}` };
  // Claude Code names its own hook (SessionStart); the others are told which one this is.
  if (out.hook_type === undefined && !(agent === 'claude-code' && str(body.hook_event_name))) out.hook_type = phase;
  const changed = Object.keys(out).length !== Object.keys(body).length || out.session_id !== body.session_id || out.summary !== body.summary;
  return { ok: true, body: changed ? JSON.stringify(out) : raw, sessionId: out.session_id };
}
