// Actor `command`: runs a program per delivery. `command` is a string run by `sh -c` or an argv
// array; `cwd` is relative to the project; `env` is added to the executor's environment.
// The event JSON goes to stdin. Environment: ORGLOOP_DELIVERY_ID, ORGLOOP_ATTEMPT, ORGLOOP_ROUTE,
// ORGLOOP_EVENT_ID, ORGLOOP_TRACE_ID, ORGLOOP_CONFIG (route then.config as JSON), TRACEPARENT (W3C
// trace context of the attempt, which OpenTelemetry SDKs pick up) and the prompt:
// ORGLOOP_PROMPT when it is under 64 KB, otherwise ORGLOOP_PROMPT_FILE (a temp file removed after
// the run) because environments have size limits.
// Exit 0 = success; anything else (or a timeout, which kills the process group) is a retryable
// failure. Both carry `stopped` so the executor can emit actor.stopped.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ActorProvider, DeliveryRequest, DeliveryResult, ProviderContext } from '../types.js';
import { durationIssue, parseDuration } from '../lib/duration.js';
import { stoppingOutcome } from '../lib/http-outcome.js';
import { COMMAND_PROPERTY, describeCommand, runProcess } from '../lib/process.js';
import { cwdProblem, findProgram, programOf } from '../lib/preflight.js';

export const PROMPT_ENV_LIMIT = 64 * 1024;

function stringEnv(env: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (env && typeof env === 'object') {
    for (const [k, v] of Object.entries(env as Record<string, unknown>)) if (v !== undefined && v !== null) out[k] = String(v);
  }
  return out;
}

/** A missing working directory, or a program that is not on PATH (nor a path to an executable). */
function localProblems(config: Record<string, unknown>, projectDir: string, path: string | undefined): Array<{ path: string; message: string }> {
  const out: Array<{ path: string; message: string }> = [];
  const cwd = resolve(projectDir, typeof config.cwd === 'string' ? config.cwd : '.');
  const badCwd = cwdProblem(cwd);
  if (badCwd) out.push({ path: typeof config.cwd === 'string' ? 'cwd' : '', message: badCwd });
  const program = typeof config.command === 'string' || Array.isArray(config.command) ? programOf(config.command as string | string[]) : null;
  // without a PATH to look in (a loader given no environment) there is nothing to tell
  if (program && !badCwd && (path !== undefined || program.includes('/')) && !findProgram(program, cwd, path)) {
    out.push({ path: 'command', message: program.includes('/') ? `${program} is not an executable file` : `${program} is not on PATH` });
  }
  return out;
}

export async function deliverCommand(ctx: ProviderContext, req: DeliveryRequest): Promise<DeliveryResult> {
  const config = ctx.config;
  const timeoutMs = config.timeout !== undefined ? parseDuration(config.timeout as string) : req.timeoutMs;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...stringEnv(config.env),
    ORGLOOP_DELIVERY_ID: req.delivery_id,
    ORGLOOP_ATTEMPT: String(req.attempt),
    ORGLOOP_ROUTE: req.route,
    ORGLOOP_EVENT_ID: req.event.id,
    ORGLOOP_TRACE_ID: req.event.trace_id,
    ORGLOOP_ACTOR: ctx.name,
    ORGLOOP_CONFIG: JSON.stringify(req.routeConfig ?? {}),
  };
  // An agent started here reports its end (or `orgloop hook` does it for Claude Code) with these.
  if (req.callback) {
    env.ORGLOOP_CALLBACK_URL = req.callback.url;
    env.ORGLOOP_CALLBACK_TOKEN = req.callback.token;
  } else {
    delete env.ORGLOOP_CALLBACK_URL;
    delete env.ORGLOOP_CALLBACK_TOKEN;
  }
  delete env.ORGLOOP_PROMPT;
  delete env.ORGLOOP_PROMPT_FILE;
  // the W3C trace context of this attempt (OpenTelemetry SDKs read TRACEPARENT), never the executor's own
  if (req.traceparent) env.TRACEPARENT = req.traceparent;
  else delete env.TRACEPARENT;
  let promptDir: string | undefined;
  if (req.prompt !== null && req.prompt !== undefined) {
    if (Buffer.byteLength(req.prompt, 'utf8') < PROMPT_ENV_LIMIT) {
      env.ORGLOOP_PROMPT = req.prompt;
    } else {
      promptDir = mkdtempSync(join(tmpdir(), 'orgloop-prompt-'));
      const file = join(promptDir, 'prompt.md');
      writeFileSync(file, req.prompt, { mode: 0o600 });
      env.ORGLOOP_PROMPT_FILE = file;
    }
  }
  const cwd = resolve(ctx.projectDir, typeof config.cwd === 'string' ? config.cwd : '.');
  // spawn reports a missing cwd as `spawn /bin/sh ENOENT`, which blames the shell: name the directory
  const badCwd = cwdProblem(cwd);
  if (badCwd) {
    if (promptDir) rmSync(promptDir, { recursive: true, force: true });
    return { ok: false, retryable: true, error: `could not start ${describeCommand(config.command as string | string[])}: ${badCwd} (config.cwd, relative to the project)` };
  }
  try {
    const r = await runProcess({
      command: config.command as string | string[],
      cwd,
      env,
      stdin: req.eventJson,
      timeoutMs,
      signal: req.signal,
    });
    if (r.spawnError) {
      return { ok: false, retryable: true, error: `could not start ${describeCommand(config.command as string | string[])}: ${r.spawnError}` };
    }
    // The executor is stopping: the work did not finish, so there is no actor.stopped to report.
    if (r.aborted && !r.timedOut) return stoppingOutcome();
    const outcome = r.timedOut ? 'timeout' : r.exitCode === 0 ? 'success' : 'failure';
    const stopped = { outcome, exit_code: r.exitCode, duration_ms: r.durationMs, output_tail: r.outputTail };
    if (outcome === 'success') return { ok: true, stopped };
    let error: string;
    if (r.timedOut) error = `timed out after ${timeoutMs}ms (process group killed)`;
    else if (r.exitCode !== null) error = `exited with code ${r.exitCode}`;
    else error = `killed by ${r.signal}`;
    const lastErr = r.stderrTail.trim().split('\n').slice(-3).join(' | ').slice(-500);
    if (lastErr) error += `: ${lastErr}`;
    return { ok: false, retryable: true, error, stopped };
  } finally {
    if (promptDir) rmSync(promptDir, { recursive: true, force: true });
  }
}

export const commandActor: ActorProvider = {
  kind: 'actor',
  name: 'command',
  description: 'Runs a local program per delivery with the event on stdin and the prompt in the environment.',
  configSchema: {
    type: 'object',
    additionalProperties: true,
    required: ['command'],
    properties: {
      command: COMMAND_PROPERTY,
      cwd: { type: 'string', description: 'working directory, relative to the project' },
      env: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
      timeout: { type: 'string', description: 'kill after this long, e.g. 10m (default: the route delivery timeout)' },
    },
  },
  validate(config, where) {
    const issues: Array<{ path: string; message: string; severity?: 'warning' }> = [];
    if (Array.isArray(config.command) && (typeof config.command[0] !== 'string' || config.command[0] === '')) {
      issues.push({ path: 'command', message: 'command array must start with the program to run' });
    }
    const t = durationIssue(config, 'timeout');
    if (t) issues.push(t);
    // Local files, checked here as warnings: the executor may run on another machine (doctor checks them as failures).
    if (where && !issues.length) {
      for (const p of localProblems(config, where.projectDir, where.env('PATH'))) issues.push({ ...p, severity: 'warning' });
    }
    return issues;
  },
  async check(ctx) {
    const problems = localProblems(ctx.config, ctx.projectDir, process.env.PATH);
    if (problems.length) return { ok: false, detail: problems.map((p) => p.message).join('; ') };
    const cwd = resolve(ctx.projectDir, typeof ctx.config.cwd === 'string' ? ctx.config.cwd : '.');
    const program = programOf(ctx.config.command as string | string[]);
    const found = program ? findProgram(program, cwd, process.env.PATH) : null;
    return { ok: true, detail: `cwd ${cwd} exists; ${found ? `${program} is ${found}` : 'program not checked (the shell line has shell syntax)'} (PATH of this shell; the executor's may differ)` };
  },
  deliver: deliverCommand,
};
