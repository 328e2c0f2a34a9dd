// Coding-agent sessions as lifecycle events (docs/connectors.md "claude-code", OrgLoop's
// spec/lifecycle-contract). One module serves the harness family: `claude-code`, `coding-agent`,
// `codex`, `opencode`, `pi` and `pi-rust` differ only in their platform name and in a few
// harness fields they pass through.
//
// Accepted bodies (POST /webhook/<source-id>, usually from `orgloop hook <harness>-stop|start`):
//   - a harness hook body: { session_id, working_directory | cwd, exit_status, duration_seconds,
//     summary, transcript_path, timestamp, hook_type: start | stop, meta, model }
//   - Claude Code's own hook input: { session_id, transcript_path, cwd, hook_event_name: Stop |
//     SubagentStop | SessionEnd | StopFailure | SessionStart, stop_hook_active, ... }
// `exit_status` maps to the phase (0 completed, 1-127 failed, 128+N stopped by signal N); a
// start hook is `started` (`resource.changed`); terminal phases are `actor.stopped`.
// An `Idempotency-Key` header (one per hook invocation, reused on retries) is the dedupe key:
// the lifecycle dedupe_key is not, since Claude Code's Stop hook fires once per turn.
// With `secret` set, requests must carry X-Hub-Signature-256 (sha256=<hex HMAC of the body>).

import type { EmittedEvent, ProviderContext, SourceProvider, WebhookRequest, WebhookResult } from '../types.js';
import { verifyGithub } from '../lib/signatures.js';
import { BLANK_SECRET_ERROR, configuredSecrets } from '../lib/blank-secret.js';
import { bodyDigestKey, transportKey } from '../lib/webhook-identity.js';
import { eventTypeFor, fromExitStatus, lifecyclePayload, type Transition } from '../lib/lifecycle.js';

/** Claude Code hook event -> the kind `hook_type` selects on. */
const HOOK_KIND: Record<string, string> = {
  Stop: 'stop',
  StopFailure: 'stop',
  SubagentStop: 'subagent_stop',
  SessionEnd: 'session_end',
  SessionStart: 'start',
};

interface Flavour {
  /** fixed platform name; undefined = `config.platform`, else the source id (as upstream) */
  platform?: string;
  /** the harness passes `model` and reports `cwd` (codex, opencode, pi, pi-rust) */
  model?: boolean;
  /** accepts Claude Code's own hook input and `hook_type` selection */
  claude?: boolean;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function transitionOf(body: any, hookEvent: string | undefined): Transition {
  if (body.hook_type === 'start' || hookEvent === 'SessionStart') return { phase: 'started' };
  if (hookEvent === 'StopFailure' || (typeof body.error === 'string' && body.error)) return { phase: 'failed', outcome: 'failure', reason: str(body.error) ?? 'stop_failure' };
  return fromExitStatus(num(body.exit_status) ?? 0);
}

/** Our earlier one-word outcome, kept beside the lifecycle for routes written for it. */
function legacyOutcome(body: any, hookEvent: string | undefined, t: Transition): string {
  if (t.phase === 'started') return 'started';
  if (hookEvent === 'StopFailure' || t.phase === 'failed') return num(body.exit_status) !== undefined ? 'failure' : 'failed';
  if (num(body.exit_status) !== undefined) return body.exit_status === 0 ? 'success' : 'failure';
  if (hookEvent === 'SessionEnd') return 'exited';
  return 'completed';
}

export function normalizeSession(
  body: any,
  opts: { platform: string; harness: string; flavour: Flavour; now?: string },
): { event: EmittedEvent; kind: string } | { error: string } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { error: 'body must be a JSON object (the hook input)' };
  if (typeof body.session_id !== 'string' || !body.session_id) return { error: 'missing session_id (is this a coding-agent hook payload?)' };
  const hookEvent = opts.flavour.claude ? str(body.hook_event_name) : undefined;
  const kind = hookEvent ? (HOOK_KIND[hookEvent] ?? hookEvent.toLowerCase()) : body.hook_type === 'start' ? 'start' : 'stop';
  const t = transitionOf(body, hookEvent);
  const at = str(body.timestamp) ?? opts.now ?? new Date().toISOString();
  const cwd = str(body.working_directory) ?? str(body.cwd) ?? '';
  const meta = body.meta && typeof body.meta === 'object' && !Array.isArray(body.meta) ? (body.meta as Record<string, unknown>) : undefined;
  const exitStatus = num(body.exit_status) ?? 0;
  const { lifecycle, session } = lifecyclePayload(t, { id: body.session_id, platform: opts.platform, harness: opts.harness, cwd, exitStatus, at, meta });
  const payload: Record<string, unknown> = {
    lifecycle,
    session,
    session_id: body.session_id,
    ...(opts.flavour.model ? {} : { working_directory: cwd }),
    cwd,
    duration_seconds: num(body.duration_seconds) ?? 0,
    exit_status: exitStatus,
    summary: str(body.summary) ?? str(body.last_assistant_message) ?? '',
    ...(opts.flavour.model ? { model: str(body.model) ?? '' } : { transcript_path: str(body.transcript_path) ?? '' }),
    ...(meta ? { meta } : {}),
  };
  if (opts.flavour.claude) {
    Object.assign(payload, {
      hook_event_name: hookEvent ?? null,
      outcome: legacyOutcome(body, hookEvent, t),
      stop_hook_active: body.stop_hook_active === true,
      permission_mode: str(body.permission_mode) ?? null,
      reason: str(body.reason) ?? null,
    });
  }
  // Subagent turns are not the session ending: they keep a name of their own so a supervisor
  // route on session.completed is not woken by each one.
  const platformEvent = hookEvent === 'SubagentStop' ? 'subagent.stopped' : `session.${t.phase}`;
  const event: EmittedEvent = {
    type: eventTypeFor(t.phase),
    provenance: {
      platform: opts.platform,
      platform_event: platformEvent,
      author: opts.platform,
      author_type: 'bot',
      session_id: body.session_id,
      working_directory: cwd,
    },
    payload,
    time: str(body.timestamp),
  };
  return { event, kind };
}

/** `hook_type` in config: which hook kinds to accept. Upstream writes `post-exit` (it reads no
 * such setting and takes everything), so `post-exit` and `any` accept every kind. */
function accepted(config: Record<string, unknown>, kind: string): boolean {
  const want = config.hook_type;
  if (want === undefined || want === null) return true;
  const list = (Array.isArray(want) ? want.map(String) : [String(want)]).map((s) => s.toLowerCase().replace(/-/g, '_'));
  if (list.includes('any') || list.includes('post_exit')) return true;
  return list.includes(kind);
}

function makeHandler(name: string, flavour: Flavour) {
  return (ctx: ProviderContext, req: WebhookRequest): WebhookResult => {
    if (req.method !== 'POST') return { ok: false, status: 405, error: 'only POST is accepted' };
    const { values: keys, blank } = configuredSecrets(ctx.config);
    if (blank) return { ok: false, status: 401, error: BLANK_SECRET_ERROR };
    if (keys.length > 0) {
      const v = verifyGithub(keys, req.headers['x-hub-signature-256'] ?? req.headers['x-signature'], req.rawBody);
      if (!v.ok) return { ok: false, status: 401, error: v.error };
    }
    let body: unknown;
    try {
      body = JSON.parse(req.rawBody.toString('utf8'));
    } catch {
      return { ok: false, status: 400, error: `body is not JSON (expected the ${name} hook input)` };
    }
    const platform = flavour.platform ?? str(ctx.config.platform) ?? ctx.name;
    const harness = str(ctx.config.harness) ?? platform;
    const n = normalizeSession(body, { platform, harness, flavour });
    if ('error' in n) return { ok: false, status: 400, error: n.error };
    if (flavour.claude && !accepted(ctx.config, n.kind)) return { ok: true, events: [] };
    // signed: the body is the identity (the hook resends the same body on retries); unsigned: the
    // hook's Idempotency-Key
    const key = keys.length > 0 ? bodyDigestKey(req.rawBody) : transportKey(req.headers, ['idempotency-key', 'webhook-id']);
    if (key) n.event.dedupe_key = key;
    return { ok: true, events: [n.event] };
  };
}

const COMMON_CONFIG = {
  secret: { type: 'string', sensitive: true, description: 'require X-Hub-Signature-256 (the hook command signs with $ORGLOOP_HOOK_SECRET)' },
  buffer_dir: { type: 'string', description: 'accepted for compatibility; events are stored in the state store (durable without it)' },
  max_buffer_size: { type: 'string', description: 'accepted for compatibility (see buffer_dir)' },
  path: { type: 'string' },
  max_body: { type: ['string', 'integer'], description: 'body size limit (default 1MB)' },
};

function sessionSource(name: string, description: string, flavour: Flavour, extraConfig: Record<string, unknown> = {}): SourceProvider {
  return {
    kind: 'source',
    name,
    description,
    emits: ['actor.stopped'],
    configSchema: { type: 'object', properties: { ...COMMON_CONFIG, ...extraConfig } },
    handleWebhook: makeHandler(name, flavour),
  };
}

const PLATFORM_CONFIG = {
  platform: { type: 'string', description: 'provenance.platform and session.adapter (default: the source id)' },
  harness: { type: 'string', description: 'session.harness (default: platform)' },
};

export const claudeCodeSource = sessionSource(
  'claude-code',
  'Claude Code sessions (Stop, SessionStart and related hooks) as lifecycle events',
  { claude: true },
  {
    ...PLATFORM_CONFIG,
    hook_type: {
      oneOf: [
        { type: 'string', enum: ['any', 'post-exit', 'start', 'stop', 'subagent_stop', 'subagent-stop', 'session_end', 'session-end'] },
        { type: 'array', items: { type: 'string', enum: ['any', 'post-exit', 'start', 'stop', 'subagent_stop', 'subagent-stop', 'session_end', 'session-end'] } },
      ],
      description: 'which Claude Code hook events to accept (default any; post-exit = any, as upstream)',
    },
  },
);
export const codingAgentSource = sessionSource('coding-agent', 'Any coding-agent harness (hook bodies) as lifecycle events', { claude: true }, PLATFORM_CONFIG);
export const codexSource = sessionSource('codex', 'Codex sessions as lifecycle events', { platform: 'codex', model: true });
export const opencodeSource = sessionSource('opencode', 'OpenCode sessions as lifecycle events', { platform: 'opencode', model: true });
export const piSource = sessionSource('pi', 'Pi sessions as lifecycle events', { platform: 'pi', model: true });
export const piRustSource = sessionSource('pi-rust', 'Pi-rust sessions as lifecycle events', { platform: 'pi-rust', model: true });

export default claudeCodeSource;
