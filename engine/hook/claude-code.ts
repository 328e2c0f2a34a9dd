// Claude Code's Stop hook input, made ready for the `claude-code` source: checked to be a hook
// payload, and given the last thing Claude said (read from the transcript on this machine,
// because the executor may run elsewhere and cannot open transcript_path).

import { open } from 'node:fs/promises';

const SUMMARY_MAX = 4000;
const TRANSCRIPT_TAIL = 256 * 1024;

export type StopHookBody = { ok: true; body: string; sessionId: string } | { ok: false; error: string };

/** The JSON to forward for a Stop hook's stdin, or why the input is not a hook payload. */
export async function claudeCodeStopBody(raw: string): Promise<StopHookBody> {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(raw);
  } catch {
    return { ok: false, error: `stdin is not JSON (got ${JSON.stringify(raw.slice(0, 80))}); expected the Claude Code hook input` };
  }
  if (!body || typeof body !== 'object' || typeof body.session_id !== 'string') {
    return { ok: false, error: 'stdin has no session_id; expected the Claude Code hook input' };
  }
  const summary = await summaryFor(body);
  return { ok: true, body: summary ? JSON.stringify({ ...body, summary }) : raw, sessionId: body.session_id };
}

async function summaryFor(body: Record<string, unknown>): Promise<string | null> {
  if (typeof body.summary === 'string' || typeof body.last_assistant_message === 'string') return null;
  if (typeof body.transcript_path !== 'string') return null;
  return lastAssistantText(body.transcript_path);
}

/** The text of the last assistant message in a Claude Code transcript (JSON Lines), or null. */
export async function lastAssistantText(path: string): Promise<string | null> {
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
      const text = textOf(entry.message?.content);
      if (text.trim()) return text.length > SUMMARY_MAX ? `${text.slice(0, SUMMARY_MAX)}…` : text;
    }
    return null;
  } finally {
    await fh.close();
  }
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((c: { type?: string; text?: unknown }) => c?.type === 'text' && typeof c.text === 'string')
    .map((c: { text: string }) => c.text)
    .join('\n');
}
