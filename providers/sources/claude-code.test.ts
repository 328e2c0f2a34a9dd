import { describe, expect, it } from 'vitest';
import { claudeCodeSource as src } from './claude-code.js';
import { providerContext } from '../../test/fakes/context.js';
import { signGithub } from '../lib/signatures.js';

const stop = {
  session_id: 'abc123',
  transcript_path: '/home/u/.claude/projects/x/abc123.jsonl',
  cwd: '/home/u/work/api',
  permission_mode: 'default',
  hook_event_name: 'Stop',
  stop_hook_active: false,
};
const req = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  path: '/webhook/claude-code',
  headers,
  rawBody: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
});

describe('claude-code source', () => {
  it('turns the Stop hook input into actor.stopped with session, cwd, transcript and outcome', async () => {
    expect(src.emits).toEqual(['actor.stopped']);
    const r = await src.handleWebhook!(providerContext('claude-code', {}), req(stop, { 'idempotency-key': 'hook-1' }));
    expect(r).toEqual({
      ok: true,
      events: [
        expect.objectContaining({
          type: 'actor.stopped',
          dedupe_key: 'hook-1',
          provenance: expect.objectContaining({ platform: 'claude-code', platform_event: 'session.completed', author_type: 'bot', session_id: 'abc123' }),
          payload: expect.objectContaining({ session_id: 'abc123', cwd: '/home/u/work/api', transcript_path: stop.transcript_path, outcome: 'completed', hook_event_name: 'Stop' }),
        }),
      ],
    });
  });

  it('accepts the earlier connector body and maps exit status to outcome', async () => {
    const r = await src.handleWebhook!(providerContext('cc', {}), req({ session_id: 's', working_directory: '/w', exit_status: 1, duration_seconds: 5, summary: 'x' }));
    expect(r.ok && r.events[0]!.payload).toMatchObject({ cwd: '/w', outcome: 'failure', exit_status: 1, summary: 'x' });
  });

  it('hook_type limits accepted hook events (others are acknowledged and dropped)', async () => {
    const ctx = providerContext('cc', { hook_type: 'stop' });
    expect(await src.handleWebhook!(ctx, req({ ...stop, hook_event_name: 'SubagentStop' }))).toEqual({ ok: true, events: [] });
    const r = await src.handleWebhook!(providerContext('cc', { hook_type: 'subagent-stop' }), req({ ...stop, hook_event_name: 'SubagentStop' }));
    expect(r.ok && r.events[0]!.provenance?.platform_event).toBe('subagent.stopped');
  });

  it('rejects bodies that are not hook input, and bad signatures when a secret is set', async () => {
    expect(await src.handleWebhook!(providerContext('cc', {}), req('nope'))).toEqual({ ok: false, status: 400, error: expect.stringContaining('not JSON') });
    expect(await src.handleWebhook!(providerContext('cc', {}), req({ cwd: '/x' }))).toEqual({ ok: false, status: 400, error: expect.stringContaining('missing session_id') });
    const ctx = providerContext('cc', { secret: 'k' });
    expect(await src.handleWebhook!(ctx, req(stop))).toEqual({ ok: false, status: 401, error: 'missing X-Hub-Signature-256 header' });
    const raw = JSON.stringify(stop);
    expect((await src.handleWebhook!(ctx, req(raw, { 'x-hub-signature-256': signGithub('k', raw) }))).ok).toBe(true);
  });
});
