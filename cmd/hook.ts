// `orgloop hook claude-code-stop`: the command Claude Code's Stop hook runs. It reads the hook's
// JSON from stdin and POSTs it to the executor's ingress (`/webhook/<source-id>`), where the
// `claude-code` source turns it into an `actor.stopped` event.
//
// It must never hold Claude Code up: when the executor is down or answers an error, it warns on
// stderr and exits 0 (Claude Code treats exit 2 as "block the stop"; we never use it). Stdout stays
// empty because Claude Code reads a Stop hook's stdout as a decision. Unreadable input (not JSON,
// no session_id) exits 1, which Claude Code shows as a non-blocking hook error.

import type { Command } from 'commander';
import { action, durationFlag } from './util.js';

const DEFAULT_URL = 'http://127.0.0.1:4800';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

interface StopOpts {
  url?: string;
  source: string;
  timeout: string;
  quiet?: boolean;
}

async function claudeCodeStop(opts: StopOpts): Promise<number> {
  if (process.stdin.isTTY) {
    process.stderr.write('orgloop hook claude-code-stop reads the Claude Code hook JSON on stdin (configure it as a Stop hook; see docs/connectors.md)\n');
    return 1;
  }
  const timeoutMs = durationFlag('--timeout', opts.timeout);
  const [{ claudeCodeStopBody }, { forwardToIngress }] = await Promise.all([import('../engine/hook/claude-code.js'), import('../engine/hook/forward.js')]);
  const input = await claudeCodeStopBody(await readStdin());
  if (!input.ok) {
    process.stderr.write(`orgloop hook: ${input.error}\n`);
    return 1;
  }
  const sent = await forwardToIngress({
    baseUrl: opts.url ?? process.env.ORGLOOP_URL ?? DEFAULT_URL,
    source: opts.source,
    body: input.body,
    secret: process.env.ORGLOOP_HOOK_SECRET || undefined,
    timeoutMs,
  });
  if (!sent.ok && !opts.quiet) process.stderr.write(`orgloop hook: session ${input.sessionId} not recorded: ${sent.error}\n`);
  // Started by a command actor: also report the end of that delivery, with the token it was
  // sent with, so the actor's own actor.stopped carries what Claude said.
  const { ORGLOOP_CALLBACK_URL: url, ORGLOOP_CALLBACK_TOKEN: token, ORGLOOP_DELIVERY_ID: deliveryId } = process.env;
  if (url && token && deliveryId) {
    const hook = JSON.parse(input.body) as { summary?: unknown; last_assistant_message?: unknown };
    const summary = typeof hook.summary === 'string' ? hook.summary : hook.last_assistant_message;
    const reported = await forwardToIngress({
      baseUrl: opts.url ?? process.env.ORGLOOP_URL ?? DEFAULT_URL,
      source: opts.source,
      url,
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ delivery_id: deliveryId, outcome: 'success', ...(typeof summary === 'string' ? { output_tail: summary } : {}) }),
      timeoutMs,
    });
    if (!reported.ok && !opts.quiet) process.stderr.write(`orgloop hook: delivery ${deliveryId} not reported: ${reported.error}\n`);
  }
  return 0;
}

export function register(program: Command): void {
  const hook = program.command('hook').description('Commands that other tools call as hooks (Claude Code)');
  hook
    .command('claude-code-stop')
    .description('forward a Claude Code Stop hook (JSON on stdin) to the executor as an actor.stopped event')
    .addHelpText(
      'after',
      `
Add to ~/.claude/settings.json (or .claude/settings.json in a repository):

  { "hooks": { "Stop": [ { "hooks": [
      { "type": "command", "command": "orgloop hook claude-code-stop" } ] } ] } }

Never blocks Claude Code: if the executor is down it warns on stderr and exits 0.
Input that is not a hook payload exits 1 (shown by Claude Code as a non-blocking error).
Set ORGLOOP_HOOK_SECRET to sign the request when the claude-code source has a secret.
When Claude Code was started by a command actor (ORGLOOP_CALLBACK_URL, ORGLOOP_CALLBACK_TOKEN and
ORGLOOP_DELIVERY_ID in its environment), the hook also reports the end of that delivery.
See docs/connectors.md.`,
    )
    .option('--url <url>', `executor ingress URL (default $ORGLOOP_URL or ${DEFAULT_URL})`)
    .option('--source <id>', 'id of the claude-code source in your project', 'claude-code')
    .option('--timeout <duration>', 'give up after this long (e.g. 5s, 1500ms)', '5s')
    .option('-q, --quiet', 'no warning on stderr when the executor is unreachable')
    .action(action(async (opts: StopOpts) => claudeCodeStop(opts)));
}
