// Source `github-webhook`: receives GitHub webhook deliveries at POST /webhook/<source-id>, and
// manages the webhook on the repository as an external object:
//   apply (create)  POST   /repos/{owner}/{repo}/hooks        url = public_url, events, secret
//   apply (update)  PATCH  /repos/{owner}/{repo}/hooks/{id}   (re-created if it vanished)
//   apply (delete)  DELETE /repos/{owner}/{repo}/hooks/{id}
//   drift (read)    GET    /repos/{owner}/{repo}/hooks/{id}   404 -> deleted; url/events/active edits
//   import          GET    /repos/{owner}/{repo}/hooks/{id}   adopt a hook that already exists
// Without `public_url` the hook is not managed (register it by hand); deliveries still work.
//
// Deliveries: X-Hub-Signature-256 is verified against `secret` (required once a secret is set),
// X-GitHub-Event plus the body's action map to the same platform_event names as the polling
// `github` source. Identity: a signed delivery's events are keyed by the item they are about
// (`review:<id>`, `issue_comment:<id>`, ... as the polling source keys them; the signed body is
// the proof), other signed deliveries by the body's digest, unsigned ones by X-GitHub-Delivery.
//
// Reconciliation (OrgLoop's, for deliveries GitHub never made: GitHub does not retry a failed
// delivery): with a token, the repository and a secret, the source also polls the API every
// `reconciliation_interval_ms` (default 5 min; 0 = off) through the polling source's code
// (cursor in the store, ETags, pagination, rate limits), looking back
// `reconciliation_lookback_ms` (default 15 min) behind its cursor, for the events whose item
// keys the two paths share: reviews, review comments, issue comments and their edits (the last
// edit of a debounce window), PRs opened, closed, merged or made ready for review, failed workflow
// runs, and, when `events` subscribes the hook to them, issues opened, labeled or assigned and
// check suites completed on the default branch's head. A reconciled event has the webhook's key,
// so the store keeps whichever came first and drops the other as a duplicate. It reports nothing
// from before its first poll.

import type { EmittedEvent, ObservedState, PollResult, ProviderContext, ProviderState, SourceProvider, WebhookRequest, WebhookResult } from '../types.js';
import { verifyGithub } from '../lib/signatures.js';
import { BLANK_SECRET_ERROR, configuredSecrets } from '../lib/blank-secret.js';
import { bodyDigestKey } from '../lib/webhook-identity.js';
import { GithubApiError, GithubClient, REPO_PATTERN, githubToken, normalizeBaseUrl, splitRepo } from '../lib/github-api.js';
import {
  EDIT_DEBOUNCE_MS,
  FAILED_CONCLUSIONS,
  GITHUB_EVENT_ALIASES,
  authorType,
  checkSuiteEvent,
  editedCommentKey,
  issueCommentEvent,
  issueEvent,
  pullRequestEvent,
  reviewCommentEvent,
  reviewEvent,
  workflowRunEvent,
} from '../lib/github-events.js';
import { sameEventNames } from '../lib/event-aliases.js';
import { githubSource } from './github.js';

/** GitHub hook events subscribed when `events` is not set. */
export const DEFAULT_HOOK_EVENTS = ['issue_comment', 'pull_request', 'pull_request_review', 'pull_request_review_comment', 'workflow_run'];

/** orgloop event names (as the polling source uses them) -> the GitHub hook event that carries them. */
const HOOK_EVENT_OF: Record<string, string> = {
  'pull_request.review_submitted': 'pull_request_review',
  'pull_request.review_comment': 'pull_request_review_comment',
  'issue_comment.edited': 'issue_comment',
  'issues.opened': 'issues',
  'issues.labeled': 'issues',
  'issues.assigned': 'issues',
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

/** `repo`, or OrgLoop's `repo_owner` + `repo_name`. */
export function repoOf(config: Record<string, unknown>): string {
  if (typeof config.repo === 'string') return config.repo;
  if (typeof config.repo_owner === 'string' && typeof config.repo_name === 'string') return `${config.repo_owner}/${config.repo_name}`;
  return '';
}

function secrets(config: Record<string, unknown>): string[] {
  return configuredSecrets(config).values;
}

/** Maps one delivery to events (empty for ping, runs and suites not completed, issue events on PRs). */
/** The objects a delivery of each kind must carry to be an event. */
const SUBJECTS: Record<string, readonly string[]> = {
  pull_request_review: ['review', 'pull_request'],
  pull_request_review_comment: ['comment', 'pull_request'],
  issue_comment: ['comment', 'issue'],
  pull_request: ['pull_request'],
  issues: ['issue'],
  workflow_run: ['workflow_run'],
  check_suite: ['check_suite'],
};

export function normalizeDelivery(ghEvent: string, body: any, opts: { editDebounceMs?: number } = {}): EmittedEvent[] {
  const repo: string = body?.repository?.full_name ?? '';
  const action: string | undefined = body?.action;
  // A delivery of these kinds without its object (a review without the review...) names nothing
  // to act on: OrgLoop drops it rather than pass it on raw, where a route on its name would wake.
  const subject = SUBJECTS[ghEvent];
  if (subject && subject.some((k) => !body?.[k] || typeof body[k] !== 'object')) return [];
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
      if (!body.comment) break;
      if (action === 'edited') {
        // Edits come in bursts (typo fixes): one event per comment per debounce window. OrgLoop
        // holds the last edit in memory until the window is quiet; we store the first at once
        // (an acknowledged delivery must be durable) and collapse the rest of the window onto it.
        const e = issueCommentEvent(repo, body.comment, body.issue, 'edited');
        const comment = body.comment.updated_at ? body.comment : { ...body.comment, updated_at: new Date().toISOString() };
        return [{ ...e, dedupe_key: editedCommentKey(comment, opts.editDebounceMs ?? EDIT_DEBOUNCE_MS) }];
      }
      return [issueCommentEvent(repo, body.comment, body.issue, action ?? 'created')];
    case 'pull_request': {
      const pr = body.pull_request;
      if (pr && action === 'opened') return [pullRequestEvent(repo, pr, 'opened', body.sender)];
      if (pr && action === 'closed') return [pullRequestEvent(repo, pr, pr.merged || pr.merged_at ? 'merged' : 'closed', body.sender)];
      if (pr && action === 'ready_for_review') return [pullRequestEvent(repo, pr, 'ready_for_review', body.sender)];
      break;
    }
    case 'workflow_run':
      // requested / in_progress runs are noise: only finished runs are events
      if (action !== 'completed' || !body.workflow_run) return [];
      if (FAILED_CONCLUSIONS.has(String(body.workflow_run.conclusion))) return [workflowRunEvent(repo, body.workflow_run)];
      break;
    case 'check_suite':
      if (action !== 'completed' || !body.check_suite) return [];
      return [checkSuiteEvent(repo, body.check_suite)];
    case 'issues': {
      const issue = body.issue;
      // PRs are issues to GitHub; their changes come as pull_request events
      if (!issue || issue.pull_request) return [];
      // the change is the issue's last update (its opening: its creation), as a poll dates it
      if (action === 'opened' || action === 'labeled' || action === 'assigned') {
        const at = (action === 'opened' ? issue.created_at : issue.updated_at) ?? undefined;
        return [issueEvent(repo, action, issue, body.sender, { label: body.label, assignee: body.assignee, at })];
      }
      break;
    }
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
        author_type: sender ? authorType(sender) : undefined,
        url: body?.pull_request?.html_url ?? body?.issue?.html_url ?? body?.repository?.html_url,
        repo,
      },
      payload: { repo, action: action ?? null, ...(body && typeof body === 'object' ? body : {}) },
    },
  ];
}

/**
 * `events` in config, as OrgLoop filters deliveries at ingress: an event passes when its name
 * (or an alias of it), its GitHub hook event (`pull_request` covers every `pull_request.*`) or,
 * for a closed PR, either of `pull_request.closed` / `pull_request.merged` is listed.
 */
export function allowedByConfig(config: Record<string, unknown>, ghEvent: string, e: EmittedEvent): boolean {
  if (!Array.isArray(config.events) || config.events.length === 0) return true;
  const listed = new Set(config.events.map(String));
  if (listed.has(ghEvent)) return true;
  const name = String(e.provenance?.platform_event ?? '');
  if (sameEventNames(name).some((n) => listed.has(n))) return true;
  if (name === 'pull_request.merged' || name === 'pull_request.closed') return listed.has('pull_request.merged') || listed.has('pull_request.closed');
  if (name.startsWith('issue_comment.')) return listed.has('issue_comment');
  return false;
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
  // delivery id is all there is (GitHub redelivers with the same id). Edits of a comment keep
  // their debounce key (comment id and edit window, from the signed body).
  const signed = keys.length > 0;
  const identity = signed ? bodyDigestKey(req.rawBody) : delivery;
  const debounce = ctx.config.issue_comment_edit_debounce_ms;
  const normalized = normalizeDelivery(ghEvent, body, typeof debounce === 'number' ? { editDebounceMs: debounce } : {}).filter((e) => allowedByConfig(ctx.config, ghEvent, e));
  const events = normalized.map((e, i, all) => ({
    ...e,
    dedupe_key:
      e.dedupe_key && (signed || e.provenance?.platform_event === 'issue_comment.edited') ? e.dedupe_key : identity ? (all.length > 1 ? `${identity}:${i}` : identity) : e.dedupe_key,
    provenance: { ...e.provenance, delivery_id: delivery },
  }));
  return { ok: true, events };
}

// ---- reconciliation: the API polled for what the webhook missed ----

const DEFAULT_RECONCILIATION_INTERVAL_MS = 300_000;
const DEFAULT_RECONCILIATION_LOOKBACK_MS = 900_000;
/** Events both paths key by the same item (github-events.ts), so a reconciled one dedupes against its delivery. */
const RECONCILED = [
  'pull_request.review_submitted',
  'pull_request_review_comment',
  'issue_comment',
  'issue_comment.edited',
  'pull_request.opened',
  'pull_request.closed',
  'pull_request.merged',
  'pull_request.ready_for_review',
  'workflow_run.completed',
  'issues.opened',
  'issues.labeled',
  'issues.assigned',
  'check_suite.completed',
];

const hasToken = (config: Record<string, unknown>) => typeof config.token === 'string' && config.token.trim() !== '';

/** Milliseconds between reconciliation polls, or null when the source does not reconcile. */
export function reconciliationInterval(config: Record<string, unknown>): number | null {
  const ms = config.reconciliation_interval_ms ?? DEFAULT_RECONCILIATION_INTERVAL_MS;
  if (typeof ms !== 'number' || ms <= 0) return null;
  // only signed deliveries carry item keys a reconciled event can be matched with
  if (!repoOf(config) || !hasToken(config) || configuredSecrets(config).values.length === 0) return null;
  return ms;
}

/**
 * The events reconciliation looks for: those the hook is subscribed to and the webhook accepts, and
 * both paths key alike. Issues and check suites need `events` to name them, as the hook does (each
 * costs a listing per poll).
 */
export function reconciledEvents(config: Record<string, unknown>): string[] {
  const subscribed = new Set(hookEvents(config));
  return RECONCILED.filter((name) => {
    const hook = HOOK_EVENT_OF[name] ?? name.split('.')[0]!;
    return subscribed.has(hook) && allowedByConfig(config, hook, { type: 'resource.changed', payload: {}, provenance: { platform_event: name } });
  });
}

/** The polling source's config for a webhook source's reconciliation, one per config object. */
const reconcileConfigs = new WeakMap<Record<string, unknown>, Record<string, unknown>>();
function reconcileConfig(config: Record<string, unknown>): Record<string, unknown> {
  let c = reconcileConfigs.get(config);
  if (!c) {
    const lookback = typeof config.reconciliation_lookback_ms === 'number' && config.reconciliation_lookback_ms > 0 ? config.reconciliation_lookback_ms : DEFAULT_RECONCILIATION_LOOKBACK_MS;
    c = {
      repo: repoOf(config),
      token: config.token,
      ...(config.base_url !== undefined ? { base_url: config.base_url } : {}),
      events: reconciledEvents(config),
      ...(typeof config.issue_comment_edit_debounce_ms === 'number' ? { issue_comment_edit_debounce_ms: config.issue_comment_edit_debounce_ms } : {}),
      // each poll looks back this far behind its cursor, and the first one from now
      overlap: `${lookback}ms`,
      initial_lookback: `${lookback}ms`,
    };
    reconcileConfigs.set(config, c);
  }
  return c;
}

/** Reconciliation's cursor: when it started (epoch ms) and the polling source's cursor. */
interface ReconcileCursor {
  v: 1;
  start: number;
  gh: string | null;
}

function parseReconcileCursor(raw: string | null): ReconcileCursor | null {
  if (!raw) return null;
  try {
    const c = JSON.parse(raw) as ReconcileCursor;
    return c && c.v === 1 && typeof c.start === 'number' && (c.gh === null || typeof c.gh === 'string') ? c : null;
  } catch {
    return null; // unreadable: start afresh
  }
}

async function reconcile(ctx: ProviderContext, cursor: string | null, etag: string | null): Promise<PollResult> {
  const config = reconcileConfig(ctx.config);
  if ((config.events as string[]).length === 0) return { events: [], cursor, etag };
  const prior = parseReconcileCursor(cursor);
  // It starts from its first poll: what came before was delivered (under the digest keys earlier
  // versions gave signed deliveries) or predates the source, and the lookback must not reach it.
  // GitHub's times are whole seconds: one in the second the first poll ran counts as after it
  const start = prior?.start ?? Math.floor(Date.now() / 1000) * 1000;
  const r = await githubSource.poll!({ ...ctx, config }, prior?.gh ?? null, etag);
  const events = prior ? r.events.filter((e) => !e.time || Date.parse(e.time) >= start).map((e) => ({ ...e, provenance: { ...e.provenance, reconciled: true } })) : [];
  const next = prior && r.cursor === prior.gh ? cursor : JSON.stringify({ v: 1, start, gh: r.cursor } satisfies ReconcileCursor);
  return { ...r, events, cursor: next };
}

// ---- the hook as an external object ----

interface HookState extends ProviderState {
  hook_id: number;
  repo: string;
  base_url: string;
  url: string;
  events: string[];
  /**
   * Set by import when a secret is configured: GitHub never returns a hook's secret, so nothing
   * can show the adopted hook signs with it. `read` reports it, and the next apply writes it.
   */
  secret_unverified?: true;
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
  const repo = repoOf(ctx.config);
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
  if (prior.secret_unverified) differences.push('secret: imported hook, GitHub does not show its secret (apply writes the configured one)');
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

/**
 * Adopts hook `id` on the configured repository. The state records the configured URL and
 * events (what create would have), not the hook's: refresh then reports each way the hook
 * differs, the plan shows it as a change, and apply PATCHes the hook instead of adding one.
 */
async function adopt(ctx: ProviderContext, id: string): Promise<ProviderState> {
  const url = hookUrl(ctx.name, ctx.config);
  if (!url) {
    throw new Error(`source.${ctx.name} has no public_url, so it manages no webhook to import into; set public_url (the address GitHub calls) first`);
  }
  if (!/^[1-9]\d*$/.test(id)) throw new Error(`a webhook id is a number (GitHub's hook id, e.g. 12345678), got "${id}"`);
  const repo = repoOf(ctx.config);
  const { owner, name } = splitRepo(repo);
  const gh = client(ctx);
  try {
    await gh.get(gh.url(`/repos/${owner}/${name}/hooks/${id}`));
  } catch (err) {
    if (!(err instanceof GithubApiError && err.status === 404)) throw err;
    const hooks = (await gh.get<Array<{ id: number; config?: { url?: string } }>>(gh.url(`/repos/${owner}/${name}/hooks`, { per_page: 100 }))).data ?? [];
    const list = hooks.map((h) => `${h.id} (${h.config?.url ?? 'no url'})`).join(', ');
    throw new Error(`${repo} has no webhook ${id}; ${hooks.length ? `its webhooks: ${list}` : 'it has no webhooks (apply creates one)'}`);
  }
  const state: HookState = { hook_id: Number(id), repo, base_url: gh.baseUrl, url, events: hookEvents(ctx.config) };
  if (secrets(ctx.config).length) state.secret_unverified = true;
  return state;
}

async function check(ctx: ProviderContext): Promise<{ ok: boolean; detail: string }> {
  const gh = client(ctx);
  try {
    const me = await gh.get<{ login: string }>(gh.url('/user'));
    const { owner, name } = splitRepo(repoOf(ctx.config));
    if (hookUrl(ctx.name, ctx.config)) await gh.get(gh.url(`/repos/${owner}/${name}/hooks`));
    else await gh.get(gh.url(`/repos/${owner}/${name}`));
    const managed = hookUrl(ctx.name, ctx.config) ? 'can manage its webhooks' : 'reachable (hook not managed: no public_url)';
    return { ok: true, detail: `authenticated as ${me.data?.login}; ${repoOf(ctx.config)} ${managed}` };
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
    if (!repoOf(config)) issues.push({ path: 'repo', message: 'repo (owner/name) is required to manage the webhook' });
  }
  const explicit = config.reconciliation_interval_ms;
  if (typeof explicit === 'number' && explicit > 0) {
    const missing = [!repoOf(config) && 'repo (or repo_owner and repo_name)', !hasToken(config) && 'token', configuredSecrets(config).values.length === 0 && !config.secret && 'secret'].filter(Boolean);
    if (missing.length) {
      issues.push({
        path: 'reconciliation_interval_ms',
        message: `reconciliation needs ${missing.join(', ')}: it reads the repository's API with the token, and only signed deliveries can be matched to what it finds (set reconciliation_interval_ms: 0 to turn it off)`,
      });
    }
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
  eventAliases: GITHUB_EVENT_ALIASES,
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
      max_buffer_size: { type: 'string', description: 'accepted for compatibility (see buffer_dir)' },
      issue_comment_edit_debounce_ms: { type: 'integer', minimum: 0, description: 'edits of one comment within this window are one event (default 120000; 0 = every edit)' },
      repo_owner: { type: 'string', description: 'OrgLoop spelling: with repo_name, the same as repo: owner/name' },
      repo_name: { type: 'string' },
      reconciliation_interval_ms: {
        type: 'integer',
        minimum: 0,
        description: 'poll the API this often for deliveries GitHub never made (default 300000 when token, repo and secret are set; 0 = off)',
      },
      reconciliation_lookback_ms: { type: 'integer', minimum: 1, description: 'how far behind its cursor each reconciliation poll looks (default 900000)' },
    },
  },
  replaceOn: ['repo', 'base_url'],
  // GitHub caps a delivery's payload at 25 MB
  defaultMaxBody: 25 * 1024 * 1024,
  validate,
  handleWebhook,
  pollIntervalMs: reconciliationInterval,
  poll: reconcile,
  create,
  update,
  delete: remove,
  read,
  import: adopt,
  importId: "the repository webhook's numeric id, from Settings > Webhooks or GET /repos/OWNER/REPO/hooks",
  check,
};

export default githubWebhookSource;
