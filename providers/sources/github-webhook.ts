// Source `github-webhook`: receives GitHub webhook deliveries at POST /webhook/<source-id>, and
// manages the webhook on the repository as an external object:
//   apply (create)  POST   /repos/{owner}/{repo}/hooks        url = public_url, events, secret
//   apply (update)  PATCH  /repos/{owner}/{repo}/hooks/{id}   (re-created if it vanished)
//   apply (delete)  DELETE /repos/{owner}/{repo}/hooks/{id}
//   drift (read)    GET    /repos/{owner}/{repo}/hooks/{id}   404 -> deleted; url/events/active edits
// Without `public_url` the hook is not managed (register it by hand); deliveries still work.
//
// Deliveries: X-Hub-Signature-256 is verified against `secret` (required once a secret is set),
// X-GitHub-Delivery is the dedupe key (GitHub redelivers with the same id), X-GitHub-Event plus
// the body's action map to the same platform_event names as the polling `github` source.

import type { EmittedEvent, ObservedState, ProviderContext, ProviderState, SourceProvider, WebhookRequest, WebhookResult } from '../types.js';
import { verifyGithub } from '../lib/signatures.js';
import { BLANK_SECRET_ERROR, configuredSecrets } from '../lib/blank-secret.js';
import { bodyDigestKey } from '../lib/webhook-identity.js';
import { GithubApiError, GithubClient, REPO_PATTERN, githubToken, normalizeBaseUrl, splitRepo } from '../lib/github-api.js';
import {
  issueCommentEvent,
  pullRequestEvent,
  reviewCommentEvent,
  reviewEvent,
  workflowRunEvent,
  RENAMED_GITHUB_EVENTS,
} from '../lib/github-events.js';
import { isBot } from '../lib/github-api.js';

/** GitHub hook events subscribed when `events` is not set. */
export const DEFAULT_HOOK_EVENTS = ['issue_comment', 'pull_request', 'pull_request_review', 'pull_request_review_comment', 'workflow_run'];

/** orgloop event names (as the polling source uses them) -> the GitHub hook event that carries them. */
const HOOK_EVENT_OF: Record<string, string> = {
  'pull_request.review_submitted': 'pull_request_review',
  'pull_request.review_comment': 'pull_request_review_comment',
  'pull_request.opened': 'pull_request',
  'pull_request.closed': 'pull_request',
  'pull_request.merged': 'pull_request',
  'pull_request.ready_for_review': 'pull_request',
  'workflow_run.completed': 'workflow_run',
  'check_suite.completed': 'check_suite',
};

/** The GitHub events the hook subscribes to, sorted and unique. */
export function hookEvents(config: Record<string, unknown>): string[] {
  const names = Array.isArray(config.events) && config.events.length ? config.events.map(String) : DEFAULT_HOOK_EVENTS;
  return [...new Set(names.map((n) => HOOK_EVENT_OF[n] ?? n.split('.')[0]!))].sort();
}

/** The URL GitHub calls: `public_url`, with `/webhook/<id>` added when it has no path. */
export function hookUrl(sourceId: string, config: Record<string, unknown>): string | null {
  if (typeof config.public_url !== 'string' || !config.public_url) return null;
  const u = new URL(config.public_url);
  if (u.pathname === '/' || u.pathname === '') u.pathname = `/webhook/${sourceId}`;
  return u.toString();
}

function secrets(config: Record<string, unknown>): string[] {
  return configuredSecrets(config).values;
}

/** Maps one delivery to events (empty for ping or actions nobody routes on). */
export function normalizeDelivery(ghEvent: string, body: any): EmittedEvent[] {
  const repo: string = body?.repository?.full_name ?? '';
  const action: string | undefined = body?.action;
  switch (ghEvent) {
    case 'ping':
      return [];
    case 'pull_request_review':
      if (action === 'submitted' && body.review) return [reviewEvent(repo, body.pull_request, body.review)];
      break;
    case 'pull_request_review_comment':
      if (action === 'created' && body.comment) return [reviewCommentEvent(repo, body.comment, body.pull_request)];
      break;
    case 'issue_comment':
      if (action === 'created' && body.comment) return [issueCommentEvent(repo, body.comment, body.issue)];
      break;
    case 'pull_request':
      if (body.pull_request && action === 'opened') return [pullRequestEvent(repo, body.pull_request, 'opened', body.sender)];
      if (body.pull_request && action === 'closed') {
        return [pullRequestEvent(repo, body.pull_request, body.pull_request.merged ? 'merged' : 'closed', body.sender)];
      }
      break;
    case 'workflow_run':
      if (action === 'completed' && body.workflow_run) return [workflowRunEvent(repo, body.workflow_run)];
      break;
  }
  // Anything else passes through with GitHub's own names: `<event>.<action>` or `<event>`.
  const sender = body?.sender;
  return [
    {
      type: 'resource.changed',
      provenance: {
        platform: 'github',
        platform_event: action ? `${ghEvent}.${action}` : ghEvent,
        author: sender?.login,
        author_type: isBot(sender) ? 'bot' : 'user',
        url: body?.pull_request?.html_url ?? body?.issue?.html_url ?? body?.repository?.html_url,
        repo,
      },
      payload: { repo, action: action ?? null, ...(body && typeof body === 'object' ? body : {}) },
    },
  ];
}

function handleWebhook(ctx: ProviderContext, req: WebhookRequest): WebhookResult {
  if (req.method !== 'POST') return { ok: false, status: 405, error: 'only POST is accepted' };
  const { values: keys, blank } = configuredSecrets(ctx.config);
  if (blank) return { ok: false, status: 401, error: BLANK_SECRET_ERROR };
  if (keys.length > 0) {
    const v = verifyGithub(keys, req.headers['x-hub-signature-256'], req.rawBody);
    if (!v.ok) return { ok: false, status: 401, error: v.error };
  }
  const ghEvent = req.headers['x-github-event'];
  if (!ghEvent) return { ok: false, status: 400, error: 'missing X-GitHub-Event header' };
  let body: unknown;
  try {
    body = JSON.parse(req.rawBody.toString('utf8'));
  } catch {
    return { ok: false, status: 400, error: 'body is not JSON (set the hook content type to application/json)' };
  }
  const delivery = req.headers['x-github-delivery'];
  // GitHub signs the body, not X-GitHub-Delivery: with a secret the signed body is the identity
  // (a replay with a changed or missing delivery id is still a duplicate); without one the
  // delivery id is all there is (GitHub redelivers with the same id).
  const identity = keys.length > 0 ? bodyDigestKey(req.rawBody) : delivery;
  const events = normalizeDelivery(ghEvent, body).map((e, i, all) => ({
    ...e,
    dedupe_key: identity ? (all.length > 1 ? `${identity}:${i}` : identity) : e.dedupe_key,
    provenance: { ...e.provenance, delivery_id: delivery },
  }));
  return { ok: true, events };
}

// ---- the hook as an external object ----

interface HookState extends ProviderState {
  hook_id: number;
  repo: string;
  base_url: string;
  url: string;
  events: string[];
}

function client(ctx: ProviderContext, baseUrl?: unknown): GithubClient {
  return new GithubClient({
    baseUrl: typeof baseUrl === 'string' ? baseUrl : ctx.config.base_url,
    token: githubToken(ctx.config, (n) => ctx.env(n)),
    signal: ctx.signal,
  });
}

function hookBody(ctx: ProviderContext, url: string) {
  const cfg: Record<string, string> = { url, content_type: 'json', insecure_ssl: '0' };
  const keys = secrets(ctx.config);
  if (keys[0]) cfg.secret = keys[0];
  return { name: 'web', active: true, events: hookEvents(ctx.config), config: cfg };
}

async function create(ctx: ProviderContext): Promise<ProviderState> {
  const url = hookUrl(ctx.name, ctx.config);
  if (!url) return { managed: false };
  const repo = String(ctx.config.repo);
  const { owner, name } = splitRepo(repo);
  const gh = client(ctx);
  const body = hookBody(ctx, url);
  let hook: { id: number; events: string[]; config: { url: string } };
  try {
    hook = (await gh.request<typeof hook>('POST', gh.url(`/repos/${owner}/${name}/hooks`), { body })).data!;
  } catch (err) {
    // 422 "Hook already exists": an apply that died after GitHub created the hook but before
    // the state recorded it. Adopt that hook (same URL) and bring it to the desired config,
    // rather than failing every apply from now on.
    if (!(err instanceof GithubApiError && err.status === 422)) throw err;
    const existing = (await gh.get<Array<{ id: number; config?: { url?: string } }>>(gh.url(`/repos/${owner}/${name}/hooks`, { per_page: 100 }))).data ?? [];
    const same = existing.find((h) => h.config?.url === url);
    if (!same) throw err;
    const { events, config, active } = body;
    hook = (await gh.request<typeof hook>('PATCH', gh.url(`/repos/${owner}/${name}/hooks/${same.id}`), { body: { events, config, active } })).data!;
  }
  const state: HookState = { hook_id: hook.id, repo, base_url: gh.baseUrl, url: hook.config?.url ?? url, events: [...(hook.events ?? [])].sort() };
  return state;
}

async function update(ctx: ProviderContext, prior: ProviderState): Promise<ProviderState> {
  const url = hookUrl(ctx.name, ctx.config);
  if (!prior.hook_id) return create(ctx);
  if (!url) {
    await remove(ctx, prior);
    return { managed: false };
  }
  const { owner, name } = splitRepo(String(prior.repo));
  const gh = client(ctx, prior.base_url);
  const { events, config, active } = hookBody(ctx, url);
  try {
    const res = await gh.request<{ id: number; events: string[]; config: { url: string } }>(
      'PATCH',
      gh.url(`/repos/${owner}/${name}/hooks/${prior.hook_id}`),
      { body: { events, config, active } },
    );
    const hook = res.data!;
    return { hook_id: hook.id, repo: prior.repo, base_url: gh.baseUrl, url: hook.config?.url ?? url, events: [...hook.events].sort() };
  } catch (err) {
    // Deleted on GitHub since the last apply: put it back.
    if (err instanceof GithubApiError && err.status === 404) return create(ctx);
    throw err;
  }
}

async function remove(ctx: ProviderContext, prior: ProviderState): Promise<void> {
  if (!prior.hook_id) return;
  const { owner, name } = splitRepo(String(prior.repo));
  const gh = client(ctx, prior.base_url);
  try {
    await gh.request('DELETE', gh.url(`/repos/${owner}/${name}/hooks/${prior.hook_id}`));
  } catch (err) {
    if (err instanceof GithubApiError && err.status === 404) return; // already gone
    throw err;
  }
}

async function read(ctx: ProviderContext, prior: ProviderState): Promise<ObservedState> {
  if (!prior.hook_id) return { exists: true, state: prior, differences: [] };
  const { owner, name } = splitRepo(String(prior.repo));
  const gh = client(ctx, prior.base_url);
  let hook: { id: number; active: boolean; events: string[]; config: { url?: string; content_type?: string } };
  try {
    hook = (await gh.get<typeof hook>(gh.url(`/repos/${owner}/${name}/hooks/${prior.hook_id}`))).data!;
  } catch (err) {
    if (err instanceof GithubApiError && err.status === 404) {
      return { exists: false, differences: [`webhook ${prior.hook_id} on ${prior.repo} was deleted on GitHub`] };
    }
    throw err;
  }
  const differences: string[] = [];
  const events = [...(hook.events ?? [])].sort();
  const want = (prior.events as string[]) ?? [];
  if (events.join(',') !== want.join(',')) differences.push(`events: applied [${want.join(', ')}], on GitHub [${events.join(', ')}]`);
  if (hook.config?.url !== prior.url) differences.push(`url: applied ${prior.url}, on GitHub ${hook.config?.url}`);
  if (hook.active === false) differences.push('active: applied true, on GitHub false (the hook was disabled)');
  if (hook.config?.content_type && hook.config.content_type !== 'json') differences.push(`content_type: applied json, on GitHub ${hook.config.content_type}`);
  return {
    exists: true,
    state: { hook_id: hook.id, repo: prior.repo, base_url: prior.base_url, url: hook.config?.url ?? null, events },
    differences,
  };
}

async function check(ctx: ProviderContext): Promise<{ ok: boolean; detail: string }> {
  const gh = client(ctx);
  try {
    const me = await gh.get<{ login: string }>(gh.url('/user'));
    const { owner, name } = splitRepo(String(ctx.config.repo));
    if (hookUrl(ctx.name, ctx.config)) await gh.get(gh.url(`/repos/${owner}/${name}/hooks`));
    else await gh.get(gh.url(`/repos/${owner}/${name}`));
    const managed = hookUrl(ctx.name, ctx.config) ? 'can manage its webhooks' : 'reachable (hook not managed: no public_url)';
    return { ok: true, detail: `authenticated as ${me.data?.login}; ${ctx.config.repo} ${managed}` };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

function validate(config: Record<string, unknown>): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  if (config.public_url !== undefined) {
    try {
      const u = new URL(String(config.public_url));
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('not http(s)');
    } catch {
      issues.push({ path: 'public_url', message: `public_url must be an http(s) URL GitHub can reach, got ${JSON.stringify(config.public_url)}` });
    }
    if (typeof config.repo !== 'string') issues.push({ path: 'repo', message: 'repo (owner/name) is required to manage the webhook' });
  }
  if (config.base_url !== undefined) {
    try {
      new URL(normalizeBaseUrl(String(config.base_url)));
    } catch {
      issues.push({ path: 'base_url', message: `invalid base_url ${JSON.stringify(config.base_url)}` });
    }
  }
  return issues;
}

export const githubWebhookSource: SourceProvider = {
  kind: 'source',
  name: 'github-webhook',
  renamedEvents: RENAMED_GITHUB_EVENTS,
  description: 'Receives GitHub webhooks and manages the repository webhook',
  configSchema: {
    type: 'object',
    properties: {
      repo: { type: 'string', pattern: REPO_PATTERN },
      token: { type: 'string', sensitive: true },
      events: { type: 'array', items: { type: 'string' } },
      secret: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], sensitive: true },
      public_url: { type: 'string', description: 'the address GitHub calls (https://host or https://host/webhook/<id>)' },
      base_url: { type: 'string' },
      path: { type: 'string' },
      max_body: { type: ['string', 'integer'], description: 'body size limit (default 25MB, the most GitHub sends)' },
      buffer_dir: { type: 'string', description: 'accepted for compatibility; deliveries are stored in the state store' },
    },
  },
  replaceOn: ['repo', 'base_url'],
  // GitHub caps a delivery's payload at 25 MB
  defaultMaxBody: 25 * 1024 * 1024,
  validate,
  handleWebhook,
  create,
  update,
  delete: remove,
  read,
  check,
};

export default githubWebhookSource;
