// Source `claude-code`: Claude Code session completions as `actor.stopped` events.
// Claude Code runs its Stop hook with a JSON document on stdin; `orgloop hook claude-code-stop`
// forwards that document to POST /webhook/<source-id>, and this source turns it into an event.
//
// Accepted bodies:
//   - the hook input itself: { session_id, transcript_path, cwd, hook_event_name: "Stop" |
//     "SubagentStop" | "SessionEnd" | "StopFailure", stop_hook_active, ... }
//   - the earlier OrgLoop connector's body: { session_id, working_directory, exit_status,
//     duration_seconds, summary }
// `hook_type` (stop | subagent_stop | session_end | any; default any) limits which hook events
// are accepted; others are answered 2xx and dropped. An `Idempotency-Key` header (the hook
// command sends one per invocation and reuses it on retries) is the dedupe key.
// With `secret` set, requests must carry X-Hub-Signature-256 (sha256=<hex HMAC of the body>).

import type { EmittedEvent, ProviderContext, SourceProvider, WebhookRequest, WebhookResult } from '../types.js';
import { verifyGithub } from '../lib/signatures.js';
import { BLANK_SECRET_ERROR, configuredSecrets } from '../lib/blank-secret.js';
import { bodyDigestKey, transportKey } from '../lib/webhook-identity.js';

const HOOK_TYPES: Record<string, string> = {
  Stop: 'stop',
  SubagentStop: 'subagent_stop',
  SessionEnd: 'session_end',
  StopFailure: 'stop',
};

const PLATFORM_EVENT: Record<string, string> = {
  stop: 'session.stopped',
  subagent_stop: 'subagent.stopped',
  session_end: 'session.exited',
};

/** What happened to the session, in one word routes can filter on. */
function outcomeOf(body: any, hookEvent: string): string {
  if (hookEvent === 'StopFailure' || body.error) return 'failed';
  if (typeof body.exit_status === 'number') return body.exit_status === 0 ? 'success' : 'failure';
  if (hookEvent === 'SessionEnd') return 'exited';
  return 'completed';
}

export function normalizeClaudeCode(body: any): { event: EmittedEvent; hookType: string } | { error: string } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { error: 'body must be a JSON object (the Claude Code hook input)' };
  if (typeof body.session_id !== 'string' || !body.session_id) return { error: 'missing session_id (is this a Claude Code hook payload?)' };
  const hookEvent: string = typeof body.hook_event_name === 'string' ? body.hook_event_name : body.exit_status !== undefined ? 'SessionEnd' : 'Stop';
  const hookType = HOOK_TYPES[hookEvent] ?? hookEvent.toLowerCase();
  const cwd: string | null = body.cwd ?? body.working_directory ?? null;
  const outcome = outcomeOf(body, hookEvent);
  const summary = typeof body.summary === 'string' ? body.summary : typeof body.last_assistant_message === 'string' ? body.last_assistant_message : null;
  const event: EmittedEvent = {
    type: 'actor.stopped',
    provenance: {
      platform: 'claude-code',
      platform_event: PLATFORM_EVENT[hookType] ?? `${hookType}`,
      author: 'claude-code',
      author_type: 'bot',
      session_id: body.session_id,
      working_directory: cwd ?? undefined,
    },
    payload: {
      session_id: body.session_id,
      cwd,
      working_directory: cwd,
      transcript_path: body.transcript_path ?? null,
      hook_event_name: hookEvent,
      outcome,
      stop_hook_active: body.stop_hook_active === true,
      permission_mode: body.permission_mode ?? null,
      summary,
      exit_status: typeof body.exit_status === 'number' ? body.exit_status : null,
      duration_seconds: typeof body.duration_seconds === 'number' ? body.duration_seconds : null,
      reason: body.reason ?? null,
    },
    time: typeof body.timestamp === 'string' ? body.timestamp : undefined,
  };
  return { event, hookType };
}

function accepted(config: Record<string, unknown>, hookType: string): boolean {
  const want = config.hook_type;
  if (want === undefined || want === null || want === 'any') return true;
  const list = Array.isArray(want) ? want.map(String) : [String(want)];
  return list.map((s) => s.toLowerCase().replace(/-/g, '_')).includes(hookType);
}

function handleWebhook(ctx: ProviderContext, req: WebhookRequest): WebhookResult {
  if (req.method !== 'POST') return { ok: false, status: 405, error: 'only POST is accepted' };
  const { values: keys, blank } = configuredSecrets(ctx.config);
  if (blank) return { ok: false, status: 401, error: BLANK_SECRET_ERROR };
  if (keys.length > 0) {
    const v = verifyGithub(keys, req.headers['x-hub-signature-256'], req.rawBody);
    if (!v.ok) return { ok: false, status: 401, error: v.error };
  }
  let body: unknown;
  try {
    body = JSON.parse(req.rawBody.toString('utf8'));
  } catch {
    return { ok: false, status: 400, error: 'body is not JSON (expected the Claude Code hook input)' };
  }
  const n = normalizeClaudeCode(body);
  if ('error' in n) return { ok: false, status: 400, error: n.error };
  if (!accepted(ctx.config, n.hookType)) return { ok: true, events: [] };
  // signed: the body is the identity (the hook resends the same body on retries); unsigned: the
  // hook's Idempotency-Key
  const key = keys.length > 0 ? bodyDigestKey(req.rawBody) : transportKey(req.headers, ['idempotency-key', 'webhook-id']);
  if (key) n.event.dedupe_key = key;
  return { ok: true, events: [n.event] };
}

export const claudeCodeSource: SourceProvider = {
  kind: 'source',
  name: 'claude-code',
  description: 'Claude Code session completions (Stop hook) as actor.stopped events',
  emits: ['actor.stopped'],
  configSchema: {
    type: 'object',
    properties: {
      hook_type: {
        oneOf: [
          { type: 'string', enum: ['stop', 'subagent_stop', 'subagent-stop', 'session_end', 'session-end', 'any'] },
          { type: 'array', items: { type: 'string' } },
        ],
        description: 'which Claude Code hook events to accept (default any)',
      },
      secret: { type: 'string', sensitive: true, description: 'require X-Hub-Signature-256 (the hook command signs with $ORGLOOP_HOOK_SECRET)' },
      buffer_dir: { type: 'string', description: 'accepted for compatibility; events are stored in the state store' },
      path: { type: 'string' },
      max_body: { type: ['string', 'integer'], description: 'body size limit (default 1MB)' },
    },
  },
  handleWebhook,
};

export default claudeCodeSource;
