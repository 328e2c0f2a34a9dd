// The hook client's work, on real parts: a real HTTP server on 127.0.0.1 playing the ingress, and
// real transcript files.
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { forwardToIngress } from './forward.js';
import { claudeCodeStopBody, lastAssistantText } from './claude-code.js';

interface Seen {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: http.Server | null = null;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** An ingress that answers the given statuses in turn (the last one repeats). */
async function ingress(statuses: number[]): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = statuses[Math.min(seen.length - 1, statuses.length - 1)]!;
      res.end(res.statusCode === 200 ? '{"ok":true}' : 'nope');
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/`, seen };
}

describe('forwardToIngress', () => {
  it('posts the body as is to /webhook/<source>, signed with the secret', async () => {
    const { url, seen } = await ingress([200]);
    const body = '{"session_id":"s1"}';
    expect(await forwardToIngress({ baseUrl: url, source: 'my hooks', body, secret: 'k', timeoutMs: 2000 })).toEqual({ ok: true });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe('/webhook/my%20hooks');
    expect(seen[0]!.body).toBe(body);
    expect(seen[0]!.headers['x-hub-signature-256']).toBe(`sha256=${createHmac('sha256', 'k').update(body).digest('hex')}`);
    expect(seen[0]!.headers['content-type']).toBe('application/json');
  });

  it('retries a 5xx and a 429 with the same idempotency key, and stops at a 4xx', async () => {
    const a = await ingress([503, 429, 200]);
    expect(await forwardToIngress({ baseUrl: a.url, source: 'cc', body: '{}', timeoutMs: 5000 })).toEqual({ ok: true });
    expect(a.seen).toHaveLength(3);
    expect(new Set(a.seen.map((s) => s.headers['idempotency-key'])).size).toBe(1);
    expect(a.seen[0]!.headers['x-hub-signature-256']).toBeUndefined();
    await new Promise<void>((r) => server!.close(() => r()));

    const b = await ingress([401]);
    const r = await forwardToIngress({ baseUrl: b.url, source: 'cc', body: '{}', timeoutMs: 5000 });
    expect(r).toEqual({ ok: false, error: `${b.url.replace(/\/$/, '')}/webhook/cc answered HTTP 401: nope`, retryable: false });
    expect(b.seen).toHaveLength(1);
  });

  it('says the executor is not reachable when nothing listens', async () => {
    const { url } = await ingress([200]);
    await new Promise<void>((r) => server!.close(() => r()));
    server = null;
    const r = await forwardToIngress({ baseUrl: url, source: 'cc', body: '{}', timeoutMs: 1500 });
    expect(r.ok).toBe(false);
    expect((r as { error: string }).error).toMatch(/^executor not reachable at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\); is `orgloop start` running\?$/);
  });
});

describe('Claude Code Stop hook input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orgloop-hook-'));

  it('the last assistant text of a transcript, skipping a cut first line and tool-only turns', async () => {
    const path = join(dir, 't.jsonl');
    writeFileSync(
      path,
      [
        'cut line"}',
        JSON.stringify({ type: 'user', message: { role: 'user', content: 'fix it' } }),
        JSON.stringify({ type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text: 'Fixed the bug.' }, { type: 'text', text: 'Tests pass.' }] } }),
        JSON.stringify({ type: 'assistant', message: { role: 'assistant', content: [{ type: 'tool_use', name: 'Bash' }] } }),
        '',
      ].join('\n'),
    );
    expect(await lastAssistantText(path)).toBe('Fixed the bug.\nTests pass.');
    expect(await lastAssistantText(join(dir, 'missing.jsonl'))).toBeNull();
  });

  it('adds the summary unless the input has one; refuses what is not a hook payload', async () => {
    const path = join(dir, 'u.jsonl');
    writeFileSync(path, JSON.stringify({ type: 'assistant', message: { content: 'Done.' } }) + '\n');
    const withPath = await claudeCodeStopBody(JSON.stringify({ session_id: 's', transcript_path: path }));
    expect(withPath).toEqual({ ok: true, sessionId: 's', body: JSON.stringify({ session_id: 's', transcript_path: path, summary: 'Done.' }) });
    const raw = JSON.stringify({ session_id: 's', transcript_path: path, last_assistant_message: 'mine' });
    expect(await claudeCodeStopBody(raw)).toEqual({ ok: true, sessionId: 's', body: raw });
    expect(await claudeCodeStopBody('not json')).toEqual({ ok: false, error: 'stdin is not JSON (got "not json"); expected the Claude Code hook input' });
    expect(await claudeCodeStopBody('{"cwd":"/x"}')).toEqual({ ok: false, error: 'stdin has no session_id; expected the Claude Code hook input' });
  });
});
