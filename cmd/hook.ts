// `orgloop hook <agent>-stop|-start`: the commands coding agents' hooks run (OrgLoop's names:
// claude-code, codex, opencode, pi, pi-rust). Each reads the hook's JSON from stdin (or, for
// Codex's `notify`, from its one argument) and POSTs it to the executor's ingress
// (`/webhook/<source-id>`), where the agent's session source turns it into a lifecycle event.
//
// It must never hold the agent up: when the executor is down or answers an error it exits 0
// (Claude Code treats exit 2 as "block the stop"; we never use it), and a request a later try
// could deliver is kept in the project's hook spool (.orgloop/hook-spool.jsonl), resent by the
// next hook call or when the executor starts; so is the report of a delivery's end to the
// agent's callback. Stdout stays empty because Claude Code reads a
// Stop hook's stdout as a decision. Unreadable input (not JSON, no session id) exits 1, which
// agents show as a non-blocking hook error.

import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../engine/errors.js';
import { parseSize } from '../providers/lib/size.js';
import { action, durationFlag } from './util.js';
import { resolveWorkspace } from '../engine/workspaces/select.js';

const DEFAULT_PORT = 4800;
const AGENTS = ['claude-code', 'codex', 'opencode', 'pi', 'pi-rust'] as const;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

interface HookOpts {
  url?: string;
  port?: string;
  source?: string;
  timeout: string;
  quiet?: boolean;
  spool: boolean;
  spoolMax: string;
}

function port(text: string, where: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > 65535) throw new UserError(`${where} must be a port number from 1 to 65535 (got "${text}")`);
  return n;
}

/** --url, else --port, else $ORGLOOP_URL, else $ORGLOOP_PORT, else port 4800 on loopback. */
export function executorUrl(opts: Pick<HookOpts, 'url' | 'port'>, env: NodeJS.ProcessEnv): string {
  if (opts.url) return opts.url;
  if (opts.port !== undefined) return `http://127.0.0.1:${port(opts.port, '--port')}`;
  if (env.ORGLOOP_URL) return env.ORGLOOP_URL;
  if (env.ORGLOOP_PORT) return `http://127.0.0.1:${port(env.ORGLOOP_PORT, `ORGLOOP_PORT=${env.ORGLOOP_PORT}`)}`;
  return `http://127.0.0.1:${DEFAULT_PORT}`;
}

/**
 * The project whose spool this hook uses: the one named by -c / ORGLOOP_CONFIG, else the nearest
 * orgloop.yaml above the agent's working directory; null when there is none.
 */
/** The workspace whose spool keeps what could not be sent: as for every command, but in the found project. */
function hookWorkspace(cmd: Command, dir: string): string {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  return resolveWorkspace({ flag: root.opts().workspace, env: process.env, configFile: join(dir, 'orgloop.yaml') }).name;
}

function projectDir(cmd: Command): string | null {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  const config = String(root.opts().config ?? 'orgloop.yaml');
  const named = root.getOptionValueSource('config') !== 'default' || !!process.env.ORGLOOP_CONFIG;
  if (named) return existsSync(resolve(config)) ? dirname(resolve(config)) : null;
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'orgloop.yaml'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

async function runHook(agent: (typeof AGENTS)[number], phase: 'start' | 'stop', json: string | undefined, opts: HookOpts, cmd: Command): Promise<number> {
  const name = `orgloop hook ${agent}-${phase}`;
  if (json === undefined && process.stdin.isTTY) {
    process.stderr.write(`${name} reads the ${agent} hook JSON on stdin (configure it as the agent's ${phase} hook; see docs/connectors.md)\n`);
    return 1;
  }
  const timeoutMs = durationFlag('--timeout', opts.timeout);
  let spoolMax: number;
  try {
    spoolMax = parseSize(opts.spoolMax);
  } catch (err) {
    throw new UserError(`--spool-max: ${(err as Error).message}`);
  }
  const baseUrl = executorUrl(opts, process.env);
  const [{ agentHookBody }, { forwardToIngress, hookSignature }, spool] = await Promise.all([
    import('../engine/hook/agents.js'),
    import('../engine/hook/forward.js'),
    import('../engine/hook/spool.js'),
  ]);
  const input = await agentHookBody(agent, phase, json ?? (await readStdin()));
  if (!input.ok) {
    process.stderr.write(`orgloop hook: ${input.error}\n`);
    return 1;
  }
  const warn = (text: string) => {
    if (!opts.quiet) process.stderr.write(`orgloop hook: ${text}\n`);
  };
  const source = opts.source ?? agent;
  const secret = process.env.ORGLOOP_HOOK_SECRET || undefined;
  const dir = opts.spool ? projectDir(cmd) : null;
  const spoolFile = dir ? spool.spoolPath(dir, hookWorkspace(cmd, dir)) : null;

  // What earlier hooks could not deliver goes first, each with the key it was first sent with.
  let down: string | undefined;
  if (spoolFile && existsSync(spoolFile)) {
    const drained = await spool.drainToIngress(spoolFile, baseUrl, timeoutMs);
    for (const r of drained.refused) warn(`a spooled ${r.url ? 'report' : `${r.source} event`} was refused and dropped: ${r.error}`);
    down = drained.error;
  }

  const key = randomUUID();
  const sent = down ? { ok: false as const, error: down, retryable: true } : await forwardToIngress({ baseUrl, source, body: input.body, secret, timeoutMs, idempotencyKey: key });
  let spooled = false;
  if (!sent.ok) {
    if (sent.retryable && spoolFile) {
      const headers: Record<string, string> = { 'idempotency-key': key };
      if (secret) headers['x-hub-signature-256'] = hookSignature(secret, input.body);
      const put = await spool.spoolAppend(spoolFile, [{ v: 1, source, body: input.body, headers, spooled_at: new Date().toISOString() }], spoolMax);
      spooled = put.ok;
      if (put.ok) warn(`session ${input.sessionId} kept in ${spoolFile}; it is sent when the executor is back (${sent.error})`);
      else warn(`session ${input.sessionId} not recorded: ${sent.error}; ${put.error}`);
    } else {
      const why = sent.retryable && opts.spool ? ' (no project found to spool it in: pass -c <orgloop.yaml> or set ORGLOOP_CONFIG)' : '';
      warn(`session ${input.sessionId} not recorded: ${sent.error}${why}`);
    }
  }
  // Started by an actor (ORGLOOP_CALLBACK_* in the environment): also report the end of that
  // delivery, with the token it was sent with, so the actor's actor.stopped carries what the agent
  // said. What the executor could not take is spooled like the event (behind it, keeping their
  // order), token and all: it proves this one delivery's end and nothing else.
  const { ORGLOOP_CALLBACK_URL: url, ORGLOOP_CALLBACK_TOKEN: token, ORGLOOP_DELIVERY_ID: deliveryId } = process.env;
  if (phase === 'stop' && url && token && deliveryId) {
    const hook = JSON.parse(input.body) as { summary?: unknown; last_assistant_message?: unknown };
    const summary = typeof hook.summary === 'string' ? hook.summary : hook.last_assistant_message;
    const body = JSON.stringify({ delivery_id: deliveryId, outcome: 'success', ...(typeof summary === 'string' ? { output_tail: summary } : {}) });
    const headers = { authorization: `Bearer ${token}` };
    const reportKey = randomUUID();
    const reported = spooled || down ? { ok: false as const, error: down ?? (sent.ok ? '' : sent.error), retryable: true } : await forwardToIngress({ baseUrl, source, url, headers, body, timeoutMs, idempotencyKey: reportKey });
    if (!reported.ok) {
      if (reported.retryable && spoolFile) {
        const entry = { v: 1 as const, source, url, body, headers: { 'idempotency-key': reportKey, ...headers }, spooled_at: new Date().toISOString() };
        const put = await spool.spoolAppend(spoolFile, [entry], spoolMax);
        if (put.ok) warn(`the report of delivery ${deliveryId} kept in ${spoolFile}; it is sent when the executor is back (${reported.error})`);
        else warn(`delivery ${deliveryId} not reported: ${reported.error}; ${put.error}`);
      } else warn(`delivery ${deliveryId} not reported: ${reported.error}`);
    }
  }
  return 0;
}

const CLAUDE_HELP = `
Add to ~/.claude/settings.json (or .claude/settings.json in a repository):

  { "hooks": { "Stop": [ { "hooks": [
      { "type": "command", "command": "orgloop -c /path/to/orgloop.yaml hook claude-code-stop" } ] } ] } }

(claude-code-start goes under "SessionStart" the same way.)`;

const COMMON_HELP = `
Never blocks the agent: it exits 0 when the executor is down, and keeps the request in the
project's .orgloop/hook-spool.jsonl (0600, bounded by --spool-max) to be sent by the next hook or
when the executor starts, with its Idempotency-Key, so it is stored once. The project is the one
-c or ORGLOOP_CONFIG names, else the nearest orgloop.yaml above the working directory.
Input that is not a hook payload exits 1 (agents show it as a non-blocking error).
The executor: --url, --port, $ORGLOOP_URL or $ORGLOOP_PORT (default http://127.0.0.1:${DEFAULT_PORT}).
Set ORGLOOP_HOOK_SECRET to sign the request when the source has a secret.
A stop hook of an agent started by a command actor (ORGLOOP_CALLBACK_URL, ORGLOOP_CALLBACK_TOKEN
and ORGLOOP_DELIVERY_ID in its environment) also reports the end of that delivery; a report the
executor could not take is spooled (with its token) and sent the same way, and counts once.
See docs/connectors.md.`;

export function register(program: Command): void {
  const hook = program.command('hook').description(`commands coding agents call as hooks (${AGENTS.join(', ')}; -start and -stop)`);
  for (const agent of AGENTS) {
    for (const phase of ['stop', 'start'] as const) {
      const c = hook
        .command(`${agent}-${phase}`)
        .argument('[json]', agent === 'codex' ? "the hook input as an argument instead of stdin (Codex's notify program gets it so)" : 'the hook input as an argument instead of stdin')
        .description(`forward ${/^[aeio]/.test(agent) ? 'an' : 'a'} ${agent} ${phase} hook (JSON on stdin) to the executor as a session.${phase === 'start' ? 'started' : 'completed|failed|stopped'} event`)
        .addHelpText('after', (agent === 'claude-code' ? CLAUDE_HELP : '') + COMMON_HELP)
        .option('--url <url>', 'executor ingress URL')
        .option('--port <port>', 'executor port on 127.0.0.1 (also ORGLOOP_PORT)')
        .option('--source <id>', `id of the ${agent} source in your project (default ${agent})`)
        .option('--timeout <duration>', 'give up after this long (e.g. 5s, 1500ms)', '5s')
        .option('--spool-max <size>', 'largest the hook spool may grow', '10MB')
        .option('--no-spool', 'do not keep undelivered requests on disk')
        .option('-q, --quiet', 'no warning on stderr when the executor is unreachable');
      c.action(action(async (json: string | undefined, opts: HookOpts) => runHook(agent, phase, json, opts, c)));
    }
  }
}
