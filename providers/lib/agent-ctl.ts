// Reading agent-ctl's session registry (OrgLoop's agent-ctl connector and agent-gate transform):
// `<agent-ctl> list --json` prints the sessions it tracks, a JSON array (or `{ sessions: [...] }`)
// of { id, adapter, status: running | idle | stopped | error, startedAt, stoppedAt?, cwd?, spec?,
// model?, tokens?, cost?, pid?, meta }. The program is run directly (no shell), with a timeout
// that kills its process group and a bound on what is read from it.

import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseDuration } from './duration.js';
import { runProcess } from './process.js';

export interface AgentSession {
  id: string;
  adapter: string;
  status: string;
  startedAt?: string;
  stoppedAt?: string;
  cwd?: string;
  spec?: string;
  model?: string;
  tokens?: unknown;
  cost?: unknown;
  pid?: unknown;
  meta?: unknown;
  [k: string]: unknown;
}

/** What a listing may print: far more than any registry holds, small enough to hold in memory. */
export const MAX_LISTING_BYTES = 4 * 1024 * 1024;

/** Where OrgLoop's agent-ctl source looks when neither `binary_path` nor AGENT_CTL_PATH says. */
export const UPSTREAM_DEFAULT_BINARY = '~/personal/agent-ctl/agent-ctl';

export function expandTilde(path: string): string {
  if (path === '~') return homedir();
  return path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
}

/**
 * The agent-ctl program to run: `binary_path`, else $AGENT_CTL_PATH, else (the source, as
 * upstream) ~/personal/agent-ctl/agent-ctl when it exists, else `agent-ctl` on the PATH.
 */
export function agentCtlBinary(config: Record<string, unknown>, env: (name: string) => string | undefined, opts: { upstreamDefault?: boolean } = {}): string {
  if (typeof config.binary_path === 'string' && config.binary_path.trim()) return expandTilde(config.binary_path.trim());
  const fromEnv = env('AGENT_CTL_PATH')?.trim();
  if (fromEnv) return expandTilde(fromEnv);
  if (opts.upstreamDefault && existsSync(expandTilde(UPSTREAM_DEFAULT_BINARY))) return expandTilde(UPSTREAM_DEFAULT_BINARY);
  return 'agent-ctl';
}

/** `timeout` as upstream writes it (milliseconds, a number) or as a duration string (`5s`). */
export function timeoutMs(value: unknown, fallback: number): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  if (typeof value === 'string' && value.trim()) return parseDuration(value);
  return fallback;
}

/** The `timeout` both agent-ctl providers take: how long one listing may take. */
export function timeoutProperty(example: string, description: string): Record<string, unknown> {
  return {
    oneOf: [
      { type: 'number', exclusiveMinimum: 0, description: 'milliseconds (as OrgLoop writes it)' },
      { type: 'string', description: `a duration, e.g. ${example}` },
    ],
    description,
  };
}

/** A duration-string `timeout` that does not parse (numbers the schema checks). */
export function timeoutIssues(config: Record<string, unknown>): Array<{ path: string; message: string }> {
  if (typeof config.timeout !== 'string') return [];
  try {
    parseDuration(config.timeout);
    return [];
  } catch (err) {
    return [{ path: 'timeout', message: (err as Error).message }];
  }
}

/** Parses a listing; throws with what is wrong (an entry without an id or status is skipped). */
export function parseListing(stdout: string): AgentSession[] {
  const text = stdout.trim();
  if (!text) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`agent-ctl list --json printed something that is not JSON: ${(err as Error).message}`);
  }
  const list = Array.isArray(parsed) ? parsed : parsed && typeof parsed === 'object' && Array.isArray((parsed as { sessions?: unknown }).sessions) ? (parsed as { sessions: unknown[] }).sessions : null;
  if (!list) throw new Error('agent-ctl list --json printed neither a list of sessions nor { "sessions": [...] }');
  const out: AgentSession[] = [];
  for (const s of list) {
    if (!s || typeof s !== 'object') continue;
    const o = s as Record<string, unknown>;
    if (typeof o.id !== 'string' || !o.id || typeof o.status !== 'string') continue;
    out.push({ ...o, id: o.id, status: o.status, adapter: typeof o.adapter === 'string' ? o.adapter : 'unknown' } as AgentSession);
  }
  return out;
}

/** In-flight listings by program: calls that arrive while one runs share its answer (a burst of
 * events through agent-gate starts one process, not one each). */
const inFlight = new Map<string, Promise<AgentSession[]>>();

/** Runs `<binary> list --json` and returns the sessions; throws when it cannot. */
export function listSessions(binary: string, timeout: number, signal?: AbortSignal): Promise<AgentSession[]> {
  const key = `${binary}\0${timeout}`;
  const running = inFlight.get(key);
  if (running) return running;
  const p = (async () => {
    const r = await runProcess({ command: [binary, 'list', '--json'], timeoutMs: timeout, signal, captureStdout: true, maxStdout: MAX_LISTING_BYTES, tailBytes: 512 });
    if (r.spawnError) throw new Error(`could not run ${binary}: ${r.spawnError}`);
    if (r.timedOut) throw new Error(`${binary} list --json did not finish within ${timeout} ms`);
    if (r.aborted) throw new Error(`${binary} list --json was cancelled`);
    if (r.exitCode !== 0) throw new Error(`${binary} list --json exited with ${r.exitCode ?? r.signal}${r.stderrTail.trim() ? `: ${r.stderrTail.trim().slice(-300)}` : ''}`);
    if (r.stdoutTruncated) throw new Error(`${binary} list --json printed more than ${MAX_LISTING_BYTES} bytes`);
    return parseListing(r.stdout);
  })().finally(() => inFlight.delete(key));
  inFlight.set(key, p);
  return p;
}
