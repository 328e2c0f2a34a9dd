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

const SUMMARY_MAX = 4000;
const TRANSCRIPT_TAIL = 256 * 1024;

/** The text of the last assistant message in a Claude Code transcript (JSON Lines), or null. */
export async function lastAssistantText(path: string): Promise<string | null> {
  const { open } = await import('node:fs/promises');
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return null;
  }
  try {
    const { size } = await fh.stat();
    const start = Math.max(0, size - TRANSCRIPT_TAIL);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    const lines = buf.toString('utf8').split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i]!.trim();
      if (!line.startsWith('{')) continue;
      let entry: { type?: string; message?: { role?: string; content?: unknown } };
      try {
        entry = JSON.parse(line);
      } catch {
        continue; // the first line of the tail may be cut
      }
      if (entry.type !== 'assistant' && entry.message?.role !== 'assistant') continue;
      const content = entry.message?.content;
      const text =
        typeof content === 'string'
          ? content
          : Array.isArray(content)
            ? content.filter((c: { type?: string; text?: string }) => c?.type === 'text' && typeof c.text === 'string').map((c: { text: string }) => c.text).join('\n')
            : '';
      if (text.trim()) return text.length > SUMMARY_MAX ? `${text.slice(0, SUMMARY_MAX)}…` : text;
    }
    return null;
  } finally {
    await fh.close();
  }
}

async function addSummary(body: Record<string, unknown>): Promise<Record<string, unknown> | null> {
  if (typeof body.summary === 'string' || typeof body.last_assistant_message === 'string') return null;
  if (typeof body.transcript_path !== 'string') return null;
  const text = await lastAssistantText(body.transcript_path);
  return text ? { ...body, summary: text } : null;
}

interface StopOpts {
  url?: string;
  source: string;
  timeout: string;
  quiet?: boolean;
}

async function claudeCodeStop(opts: StopOpts): Promise<number> {
  const warn = (msg: string) => {
    if (!opts.quiet) process.stderr.write(`orgloop hook: ${msg}\n`);
  };
  if (process.stdin.isTTY) {
    process.stderr.write('orgloop hook claude-code-stop reads the Claude Code hook JSON on stdin (configure it as a Stop hook; see docs/connectors.md)\n');
    return 1;
  }
  const raw = await readStdin();
  let body: { session_id?: unknown };
  try {
    body = JSON.parse(raw);
  } catch {
    process.stderr.write(`orgloop hook: stdin is not JSON (got ${JSON.stringify(raw.slice(0, 80))}); expected the Claude Code hook input\n`);
    return 1;
  }
  if (!body || typeof body !== 'object' || typeof body.session_id !== 'string') {
    process.stderr.write('orgloop hook: stdin has no session_id; expected the Claude Code hook input\n');
    return 1;
  }
  // The supervisor may run on another machine and cannot open transcript_path: send the last
  // thing Claude said along with the hook input.
  let raw2 = raw;
  const withSummary = await addSummary(body as Record<string, unknown>);
  if (withSummary) raw2 = JSON.stringify(withSummary);
  const timeoutMs = durationFlag('--timeout', opts.timeout);
  const base = (opts.url ?? process.env.ORGLOOP_URL ?? DEFAULT_URL).replace(/\/+$/, '');
  const target = `${base}/webhook/${encodeURIComponent(opts.source)}`;
  const { randomUUID, createHmac } = await import('node:crypto');
  // One key per hook invocation, reused on retries: the executor stores the event once.
  const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': randomUUID(), 'user-agent': 'orgloop-hook' };
  const secret = process.env.ORGLOOP_HOOK_SECRET;
  if (secret) headers['x-hub-signature-256'] = `sha256=${createHmac('sha256', secret).update(raw2).digest('hex')}`;

  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (let attempt = 1; attempt <= 3 && Date.now() < deadline; attempt++) {
    try {
      const res = await fetch(target, { method: 'POST', headers, body: raw2, signal: AbortSignal.timeout(Math.max(100, deadline - Date.now())) });
      const text = await res.text().catch(() => '');
      if (res.ok) return 0;
      lastError = `${target} answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
      if (res.status < 500 && res.status !== 429) break; // the request itself is wrong; retrying will not help
    } catch (err) {
      const c = (err as { cause?: { code?: string; message?: string } }).cause;
      const cause = c?.code ?? c?.message;
      lastError = `executor not reachable at ${base}${cause ? ` (${cause})` : ''}; is \`orgloop start\` running?`;
    }
    await new Promise((r) => setTimeout(r, Math.min(200 * attempt, Math.max(0, deadline - Date.now()))));
  }
  warn(`session ${body.session_id} not recorded: ${lastError || 'timed out'}`);
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
See docs/connectors.md.`,
    )
    .option('--url <url>', `executor ingress URL (default $ORGLOOP_URL or ${DEFAULT_URL})`)
    .option('--source <id>', 'id of the claude-code source in your project', 'claude-code')
    .option('--timeout <duration>', 'give up after this long (e.g. 5s, 1500ms)', '5s')
    .option('-q, --quiet', 'no warning on stderr when the executor is unreachable')
    .action(action(async (opts: StopOpts) => claudeCodeStop(opts)));
}
