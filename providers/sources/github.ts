// Source `github` (polling): PR reviews, review comments, issue comments (and, when named, their
// edits), PRs opened / closed / merged / made ready, failed workflow runs, issues opened / labeled /
// assigned and completed check suites for one or more repositories, through the REST API.
//
// Cursor (JSON, stored by the executor in the same transaction as the events it produced):
//   { v: 1, repos: { "owner/name": { since: { pulls, review_comments, issue_comments,
//     workflow_runs }, etags: { <endpoint>: { url, etag } } } } }
// Each endpoint is asked for items updated after `since - overlap`; the overlap absorbs clock
// skew and items GitHub indexes late. Items seen twice are harmless: every event carries a stable
// dedupe_key (the item id), and the store keeps one event per key.
// Conditional requests: when an endpoint's URL is unchanged since the last poll, its ETag is sent
// as If-None-Match; a 304 means nothing changed and costs no rate limit.
// Rate limits: when the remaining budget hits 0 (or a secondary limit answers Retry-After), the
// poll stops, keeps what it collected (the cursor advances only for finished endpoints) and asks
// the scheduler to wait until the reset (`retryAfterMs`); the reset time is kept in the cursor so
// a restarted executor waits too instead of spending a request to learn it again.

import type { EmittedEvent, PollResult, ProviderContext, SourceProvider } from '../types.js';
import { durationOr } from '../lib/duration.js';
import { INITIAL_LOOKBACK_PROPERTY, pollWindowIssues } from '../lib/poll-window.js';
import {
  GithubClient,
  GithubRateLimitError,
  REPO_PATTERN,
  githubToken,
  splitRepo,
  type GithubResponse,
} from '../lib/github-api.js';
import {
  DEFAULT_GITHUB_EVENTS,
  EDIT_DEBOUNCE_MS,
  FAILED_CONCLUSIONS,
  GITHUB_EVENT_ALIASES,
  GITHUB_EVENT_KINDS,
  GITHUB_EVENT_NAMES,
  GITHUB_PLATFORM_EVENTS,
  checkSuiteEvent,
  editedCommentKey,
  issueCommentEvent,
  issueEvent,
  pullRequestEvent,
  reviewCommentEvent,
  reviewEvent,
  workflowRunEvent,
  type GithubEventName,
} from '../lib/github-events.js';
import { readCursor } from '../lib/cursor.js';

type Endpoint = 'pulls' | 'review_comments' | 'issue_comments' | 'workflow_runs' | 'issues' | 'issue_events' | 'check_suites';
/** Endpoints every poll reads; the others only when `events` names something they carry. */
const CORE_ENDPOINTS: Endpoint[] = ['pulls', 'review_comments', 'issue_comments', 'workflow_runs'];
type Kind = (typeof GITHUB_EVENT_KINDS)[GithubEventName];

interface RepoCursor {
  since: Partial<Record<Endpoint, string>>;
  etags: Partial<Record<string, { url: string; etag: string }>>;
}
interface Cursor {
  v: 1;
  repos: Record<string, RepoCursor>;
  /** epoch ms: the rate limit is exhausted until then (kept so a restart does not spend a request to learn it) */
  blocked_until?: number;
}

const DEFAULT_OVERLAP_MS = 5 * 60_000;
const DEFAULT_MAX_PAGES = 10;
const PER_PAGE = 100;

/** Repositories a github source config names (`repo` and/or `repos`). */
export function configuredRepos(config: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (typeof config.repo === 'string') out.push(config.repo);
  if (Array.isArray(config.repos)) for (const r of config.repos) if (typeof r === 'string') out.push(r);
  return [...new Set(out)];
}

function wantedKinds(config: Record<string, unknown>): Set<Kind> {
  const names = Array.isArray(config.events) && config.events.length > 0 ? (config.events as GithubEventName[]) : DEFAULT_GITHUB_EVENTS;
  const kinds = new Set<Kind>();
  for (const n of names) {
    const k = GITHUB_EVENT_KINDS[n];
    if (k === 'pull_any') {
      kinds.add('pull_opened');
      kinds.add('pull_closed');
      kinds.add('pull_merged');
      kinds.add('pull_ready');
    } else if (k === 'issues_any') {
      kinds.add('issues_opened');
      kinds.add('issues_labeled');
      kinds.add('issues_assigned');
    } else if (k) kinds.add(k);
  }
  return kinds;
}

function parseCursor(raw: string | null): Cursor {
  return readCursor<Cursor>(raw, () => ({ v: 1, repos: {} }), (c) => !!c.repos && typeof c.repos === 'object');
}

/**
 * What a source's poll derives from its config, kept between polls while the config object is the
 * same (ProviderContext.config's contract in providers/types.ts: one object per config and secret
 * values, never mutated): idle polls should not re-derive settings, re-parse an unchanged cursor
 * or rebuild unchanged URLs.
 */
interface PollSettings {
  kinds: Set<Kind>;
  overlapMs: number;
  lookbackMs: number;
  maxPages: number;
  authors: Set<string> | null;
  /** the debounce window of comment edits (ms) */
  editWindowMs: number;
  repos: string[];
  /** the last cursor seen or returned, parsed; never mutated (polls copy what they change) */
  last: { raw: string; cursor: Cursor } | null;
  urls: Map<string, RepoUrls>;
  /** the client of the last poll, reused while the token and signal are the same */
  client: { token: string | undefined; signal: AbortSignal | undefined; client: GithubClient } | null;
}
/** a repository's listing URLs; the comment URLs depend on `since`, so they are kept with it */
interface RepoUrls {
  base: string;
  pulls: string;
  workflowRuns: string;
  issueEvents: string;
  checkSuites: string;
  comments: Partial<Record<'review_comments' | 'issue_comments', { since: string; url: string }>>;
}
const settingsByConfig = new WeakMap<Record<string, unknown>, PollSettings>();

function pollSettings(config: Record<string, unknown>): PollSettings {
  let p = settingsByConfig.get(config);
  if (!p) {
    p = {
      kinds: wantedKinds(config),
      overlapMs: durationOr(config.overlap, DEFAULT_OVERLAP_MS),
      lookbackMs: durationOr(config.initial_lookback, 0),
      maxPages: typeof config.max_pages === 'number' ? config.max_pages : DEFAULT_MAX_PAGES,
      authors: Array.isArray(config.authors) && config.authors.length ? new Set<string>(config.authors.map(String)) : null,
      editWindowMs: typeof config.issue_comment_edit_debounce_ms === 'number' ? config.issue_comment_edit_debounce_ms : EDIT_DEBOUNCE_MS,
      repos: configuredRepos(config),
      last: null,
      urls: new Map(),
      client: null,
    };
    settingsByConfig.set(config, p);
  }
  return p;
}

function cursorOf(p: PollSettings, raw: string | null): Cursor {
  if (raw !== null && p.last?.raw === raw) return p.last.cursor;
  const c = parseCursor(raw);
  if (raw !== null) p.last = { raw, cursor: c };
  return c;
}

/** A repository cursor the poll may change without touching the prior one (entries are replaced, never mutated). */
const copyRepoCursor = (rc: RepoCursor | undefined): RepoCursor => (rc ? { since: { ...rc.since }, etags: { ...rc.etags } } : { since: {}, etags: {} });

function sameRepoCursor(a: RepoCursor | undefined, b: RepoCursor): boolean {
  if (!a) return false;
  const keys = (o: object) => Object.keys(o);
  const [as, bs, ae, be] = [keys(a.since), keys(b.since), keys(a.etags), keys(b.etags)];
  if (as.length !== bs.length || ae.length !== be.length) return false;
  for (const k of bs) if (a.since[k as Endpoint] !== b.since[k as Endpoint]) return false;
  for (const k of be) if (a.etags[k] !== b.etags[k]) return false; // replaced on change, so identity is enough
  return true;
}

const later = (a: string | undefined, b: string | undefined): string | undefined => (!a ? b : !b ? a : Date.parse(a) >= Date.parse(b) ? a : b);
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

class RepoPoller {
  readonly events: EmittedEvent[] = [];
  private readonly owner: string;
  private readonly name: string;
  private readonly prs = new Map<number, any>();

  constructor(
    private readonly ctx: ProviderContext,
    private readonly client: GithubClient,
    private readonly repo: string,
    private readonly rc: RepoCursor,
    private readonly kinds: Set<Kind>,
    private readonly overlapMs: number,
    private readonly maxPages: number,
    private readonly authors: Set<string> | null,
    private readonly urls: RepoUrls,
    private readonly editWindowMs: number,
  ) {
    ({ owner: this.owner, name: this.name } = splitRepo(repo));
  }

  private path(p: string): string {
    return `/repos/${this.owner}/${this.name}${p}`;
  }

  private emit(e: EmittedEvent): void {
    if (this.authors && !this.authors.has(String(e.provenance?.author ?? ''))) return;
    this.events.push(e);
  }

  private floor(endpoint: Endpoint): number {
    return Date.parse(this.rc.since[endpoint]!) - this.overlapMs;
  }

  /** GET with the stored ETag when the URL is unchanged; records the new ETag. */
  private async getFirst<T>(key: string, url: string): Promise<GithubResponse<T>> {
    const prior = this.rc.etags[key];
    const res = await this.client.get<T>(url, prior && prior.url === url ? prior.etag : null);
    if (!res.notModified && res.etag) this.rc.etags[key] = { url, etag: res.etag };
    return res;
  }

  private async *pages<T>(key: string, firstUrl: string): AsyncGenerator<T[]> {
    let res = await this.getFirst<T[] | { workflow_runs?: T[]; check_suites?: T[] }>(key, firstUrl);
    for (let page = 1; ; page++) {
      if (res.notModified || res.data === null) return;
      const d = res.data as any;
      yield Array.isArray(d) ? d : (d.workflow_runs ?? d.check_suites ?? []);
      if (!res.next) return;
      if (page >= this.maxPages) {
        this.ctx.log.warn(`github ${this.repo}: stopped after ${page} pages of ${key}; the rest follows next poll`);
        return;
      }
      res = await this.client.get(res.next);
    }
  }

  async pulls(): Promise<void> {
    const floor = this.floor('pulls');
    const url = this.urls.pulls;
    let newest = this.rc.since.pulls;
    let complete = true;
    const changed: any[] = [];
    let pageCount = 0;
    outer: for await (const page of this.pages<any>('pulls', url)) {
      pageCount++;
      for (const pr of page) {
        if (Date.parse(pr.updated_at) < floor) break outer;
        changed.push(pr);
        newest = later(newest, pr.updated_at);
      }
      if (page.length === PER_PAGE && pageCount >= this.maxPages) complete = false;
    }
    for (const pr of changed) {
      this.prs.set(pr.number, pr);
      if (this.kinds.has('pull_opened') && Date.parse(pr.created_at) >= floor) this.emit(pullRequestEvent(this.repo, pr, 'opened'));
      if (pr.merged_at && this.kinds.has('pull_merged') && Date.parse(pr.merged_at) >= floor) {
        this.emit(pullRequestEvent(this.repo, pr, 'merged'));
      } else if (!pr.merged_at && pr.closed_at && this.kinds.has('pull_closed') && Date.parse(pr.closed_at) >= floor) {
        this.emit(pullRequestEvent(this.repo, pr, 'closed'));
      }
      if (this.kinds.has('reviews')) await this.reviews(pr, floor);
    }
    // Sorted newest first: a truncated listing leaves older changes unseen, so keep `since`.
    if (complete) this.rc.since.pulls = newest;
  }

  private async reviews(pr: any, floor: number): Promise<void> {
    const url = this.client.url(this.path(`/pulls/${pr.number}/reviews`), { per_page: PER_PAGE });
    let res = await this.client.get<any[]>(url);
    for (let page = 1; res.data; page++) {
      for (const review of res.data) {
        if (review.state === 'PENDING' || !review.submitted_at) continue;
        if (Date.parse(review.submitted_at) >= floor) this.emit(reviewEvent(this.repo, pr, review));
      }
      if (!res.next || page >= this.maxPages) break;
      res = await this.client.get<any[]>(res.next);
    }
  }

  /** Comments endpoints sort ascending by update time, so `since` can follow the last item seen. */
  async comments(endpoint: 'review_comments' | 'issue_comments'): Promise<void> {
    const since = this.rc.since[endpoint]!;
    let cached = this.urls.comments[endpoint];
    if (cached?.since !== since) {
      const apiPath = endpoint === 'review_comments' ? '/pulls/comments' : '/issues/comments';
      const url = `${this.urls.base}${apiPath}?${new URLSearchParams({ sort: 'updated', direction: 'asc', since: iso(this.floor(endpoint)), per_page: String(PER_PAGE) })}`;
      this.urls.comments[endpoint] = cached = { since, url };
    }
    const url = cached.url;
    let newest = this.rc.since[endpoint];
    for await (const page of this.pages<any>(endpoint, url)) {
      for (const c of page) {
        // `since` filters on update time; an edited old comment is not a new comment.
        if (Date.parse(c.created_at) >= this.floor(endpoint)) {
          if (endpoint === 'review_comments') {
            this.emit(reviewCommentEvent(this.repo, c, this.prs.get(Number(String(c.pull_request_url).split('/').pop()))));
          } else if (this.kinds.has('issue_comments')) {
            this.emit(issueCommentEvent(this.repo, c, this.prs.get(Number(String(c.issue_url).split('/').pop()))));
          }
        }
        // An edit shows as an update time past the creation; only the last edit is visible here
        if (endpoint === 'issue_comments' && this.kinds.has('issue_comment_edits') && c.updated_at !== c.created_at && Date.parse(c.updated_at) >= this.floor(endpoint)) {
          const e = issueCommentEvent(this.repo, c, this.prs.get(Number(String(c.issue_url).split('/').pop())), 'edited');
          this.emit({ ...e, dedupe_key: editedCommentKey(c, this.editWindowMs) });
        }
        newest = later(newest, c.updated_at);
      }
    }
    this.rc.since[endpoint] = newest;
  }

  async workflowRuns(): Promise<void> {
    const floor = this.floor('workflow_runs');
    const url = this.urls.workflowRuns;
    let newest = this.rc.since.workflow_runs;
    outer: for await (const page of this.pages<any>('workflow_runs', url)) {
      for (const run of page) {
        // Newest created first; a run created long before `since` cannot have finished after it
        // unless it ran for hours, which the 24 h margin covers.
        if (Date.parse(run.created_at) < floor - 24 * 3_600_000) break outer;
        if (run.status !== 'completed' || Date.parse(run.updated_at) < floor) continue;
        newest = later(newest, run.updated_at);
        // OrgLoop's github source reports failed runs only (webhooks carry every conclusion).
        if (FAILED_CONCLUSIONS.has(String(run.conclusion))) this.emit(workflowRunEvent(this.repo, run));
      }
    }
    this.rc.since.workflow_runs = newest;
  }

  /** Issues opened in the window (`issues.opened`; PRs are issues to GitHub and are skipped). */
  async issuesOpened(): Promise<void> {
    const floor = this.floor('issues');
    const url = `${this.urls.base}/issues?${new URLSearchParams({ state: 'all', sort: 'updated', direction: 'desc', since: iso(floor), per_page: String(PER_PAGE) })}`;
    let newest = this.rc.since.issues;
    for await (const page of this.pages<any>('issues', url)) {
      for (const issue of page) {
        newest = later(newest, issue.updated_at);
        if (issue.pull_request || Date.parse(issue.created_at) < floor) continue;
        this.emit(issueEvent(this.repo, 'opened', issue, issue.user, { at: issue.created_at }));
      }
    }
    this.rc.since.issues = newest;
  }

  /** The repository's issue events, newest first: labeled / assigned issues and PRs made ready for review. */
  async issueEvents(): Promise<void> {
    const floor = this.floor('issue_events');
    let newest = this.rc.since.issue_events;
    outer: for await (const page of this.pages<any>('issue_events', this.urls.issueEvents)) {
      for (const ev of page) {
        if (Date.parse(ev.created_at) < floor) break outer;
        newest = later(newest, ev.created_at);
        const issue = ev.issue;
        if (!issue) continue;
        if (ev.event === 'ready_for_review' && issue.pull_request && this.kinds.has('pull_ready')) {
          this.emit(pullRequestEvent(this.repo, await this.pull(issue), 'ready_for_review', null, ev.created_at));
        } else if (!issue.pull_request && ev.event === 'labeled' && this.kinds.has('issues_labeled')) {
          this.emit(issueEvent(this.repo, 'labeled', issue, ev.actor, { label: ev.label, at: ev.created_at }));
        } else if (!issue.pull_request && ev.event === 'assigned' && this.kinds.has('issues_assigned')) {
          this.emit(issueEvent(this.repo, 'assigned', issue, ev.actor, { assignee: ev.assignee, at: ev.created_at }));
        }
      }
    }
    this.rc.since.issue_events = newest;
  }

  /** The PR an issue event is about: from this poll's listing, else asked for (its branches and author are in the event). */
  private async pull(issue: any): Promise<any> {
    const known = this.prs.get(issue.number);
    if (known) return known;
    const res = await this.client.get<any>(this.client.url(this.path(`/pulls/${issue.number}`)));
    const pr = res.data ?? { ...issue, head: null, base: null };
    this.prs.set(issue.number, pr);
    return pr;
  }

  /** Check suites completed on the default branch's head (`check_suite.completed`). */
  async checkSuites(): Promise<void> {
    const floor = this.floor('check_suites');
    let newest = this.rc.since.check_suites;
    for await (const page of this.pages<any>('check_suites', this.urls.checkSuites)) {
      for (const suite of page) {
        if (suite.status !== 'completed' || !suite.updated_at || Date.parse(suite.updated_at) < floor) continue;
        newest = later(newest, suite.updated_at);
        this.emit(checkSuiteEvent(this.repo, suite));
      }
    }
    this.rc.since.check_suites = newest;
  }
}

function endpointsFor(kinds: Set<Kind>): Endpoint[] {
  const out = [...CORE_ENDPOINTS];
  if (kinds.has('issues_opened')) out.push('issues');
  if (kinds.has('issues_labeled') || kinds.has('issues_assigned') || kinds.has('pull_ready')) out.push('issue_events');
  if (kinds.has('check_suites')) out.push('check_suites');
  return out;
}

function repoUrls(p: PollSettings, client: GithubClient, repo: string): RepoUrls {
  const key = `${client.baseUrl} ${repo}`;
  let u = p.urls.get(key);
  if (!u) {
    const { owner, name } = splitRepo(repo);
    const base = `/repos/${owner}/${name}`;
    u = {
      base: client.url(base),
      pulls: client.url(`${base}/pulls`, { state: 'all', sort: 'updated', direction: 'desc', per_page: PER_PAGE }),
      workflowRuns: client.url(`${base}/actions/runs`, { status: 'completed', per_page: PER_PAGE }),
      issueEvents: client.url(`${base}/issues/events`, { per_page: PER_PAGE }),
      checkSuites: client.url(`${base}/commits/HEAD/check-suites`, { per_page: PER_PAGE }),
      comments: {},
    };
    p.urls.set(key, u);
  }
  return u;
}

async function poll(ctx: ProviderContext, rawCursor: string | null): Promise<PollResult> {
  const config = ctx.config;
  const p = pollSettings(config);
  const cursor = cursorOf(p, rawCursor);
  if (cursor.blocked_until && cursor.blocked_until > Date.now()) {
    return { events: [], cursor: rawCursor, etag: null, retryAfterMs: cursor.blocked_until - Date.now() };
  }
  const token = githubToken(config, (n) => ctx.env(n));
  if (!token) ctx.log.warn('github: no token configured; unauthenticated requests are limited to 60 per hour');
  let held = p.client;
  if (!held || held.token !== token || held.signal !== ctx.signal) p.client = held = { token, signal: ctx.signal, client: new GithubClient({ baseUrl: config.base_url, token, signal: ctx.signal }) };
  const client = held.client;
  client.rate = { remaining: null, resetAt: null }; // this poll acts on the limits it sees itself
  const { kinds, overlapMs, lookbackMs, maxPages, authors, editWindowMs } = p;
  const events: EmittedEvent[] = [];
  const next: Cursor = { v: 1, repos: {} };
  let changed = rawCursor === null || cursor.blocked_until !== undefined;

  // Baseline for repos seen for the first time: the GitHub server's clock (no local skew).
  let start: string | null = null;
  const baseline = async (): Promise<string> => {
    if (start) return start;
    const res = await client.get<unknown>(client.url('/rate_limit'));
    start = iso((res.serverTime ?? Date.now()) - lookbackMs);
    return start;
  };

  let retryAfterMs: number | undefined;
  for (const repo of p.repos) {
    const prior = cursor.repos[repo];
    const rc = copyRepoCursor(prior);
    next.repos[repo] = rc;
    if (retryAfterMs !== undefined) continue; // rate-limited: keep the prior cursor for the rest
    try {
      for (const ep of endpointsFor(kinds)) {
        if (!rc.since[ep]) rc.since[ep] = await baseline();
      }
      const poller = new RepoPoller(ctx, client, repo, rc, kinds, overlapMs, maxPages, authors, repoUrls(p, client, repo), editWindowMs);
      try {
        if (kinds.has('reviews') || kinds.has('pull_opened') || kinds.has('pull_closed') || kinds.has('pull_merged')) await poller.pulls();
        if (kinds.has('review_comments')) await poller.comments('review_comments');
        if (kinds.has('issue_comments') || kinds.has('issue_comment_edits')) await poller.comments('issue_comments');
        if (kinds.has('workflow_runs')) await poller.workflowRuns();
        if (kinds.has('issues_opened')) await poller.issuesOpened();
        if (kinds.has('issues_labeled') || kinds.has('issues_assigned') || kinds.has('pull_ready')) await poller.issueEvents();
        if (kinds.has('check_suites')) await poller.checkSuites();
      } finally {
        if (poller.events.length) events.push(...poller.events);
        if (!changed && !sameRepoCursor(prior, rc)) changed = true;
      }
    } catch (err) {
      if (!(err instanceof GithubRateLimitError)) throw err;
      retryAfterMs = Math.max(1000, err.retryAt - Date.now() + 1000);
      ctx.log.warn(err.message, { repo });
    }
    // Spend nothing more once the budget is gone; wait for the reset instead.
    if (retryAfterMs === undefined && client.rate.remaining === 0 && client.rate.resetAt) {
      retryAfterMs = Math.max(1000, client.rate.resetAt - Date.now() + 1000);
    }
  }
  if (retryAfterMs !== undefined) next.blocked_until = Date.now() + retryAfterMs;
  // The common idle poll (every listing answered 304) changes nothing: hand back the same cursor
  // string, which the executor takes as "nothing to commit".
  if (!changed && retryAfterMs === undefined && Object.keys(cursor.repos).length === p.repos.length) return { events, cursor: rawCursor, etag: null };
  const raw = JSON.stringify(next);
  p.last = { raw, cursor: next };
  return { events, cursor: raw, etag: null, retryAfterMs };
}

async function check(ctx: ProviderContext): Promise<{ ok: boolean; detail: string }> {
  const client = new GithubClient({ baseUrl: ctx.config.base_url, token: githubToken(ctx.config, (n) => ctx.env(n)), signal: ctx.signal });
  try {
    const me = await client.get<{ login: string }>(client.url('/user'));
    for (const repo of configuredRepos(ctx.config)) {
      const { owner, name } = splitRepo(repo);
      await client.get(client.url(`/repos/${owner}/${name}`));
    }
    const rate = client.rate.remaining === null ? '' : `, ${client.rate.remaining} requests left`;
    return { ok: true, detail: `authenticated as ${me.data?.login}; ${configuredRepos(ctx.config).join(', ')} reachable${rate}` };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

function validate(config: Record<string, unknown>): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  if (configuredRepos(config).length === 0) issues.push({ path: 'repo', message: 'set `repo: owner/name` (or `repos: [...]`)' });
  if (Array.isArray(config.events)) {
    config.events.forEach((e, i) => {
      if (!(GITHUB_EVENT_NAMES as string[]).includes(String(e))) {
        issues.push({ path: `events.${i}`, message: `unknown github event ${JSON.stringify(e)}; known: ${GITHUB_EVENT_NAMES.join(', ')}` });
      }
    });
  }
  issues.push(...pollWindowIssues(config));
  return issues;
}

export const githubSource: SourceProvider = {
  kind: 'source',
  name: 'github',
  eventAliases: GITHUB_EVENT_ALIASES,
  platformEvents: GITHUB_PLATFORM_EVENTS,
  description: 'Polls GitHub for PR reviews, comments, PR and issue changes, failed workflow runs and check suites',
  polling: true,
  configSchema: {
    type: 'object',
    properties: {
      repo: { type: 'string', pattern: REPO_PATTERN, description: 'owner/name' },
      repos: { type: 'array', items: { type: 'string', pattern: REPO_PATTERN }, minItems: 1 },
      token: { type: 'string', sensitive: true, description: 'token (write "${GITHUB_TOKEN}"); defaults to $GITHUB_TOKEN' },
      events: { type: 'array', items: { type: 'string' } },
      authors: { type: 'array', items: { type: 'string' } },
      base_url: { type: 'string', description: 'API base, e.g. https://github.example.com/api/v3 for GitHub Enterprise' },
      overlap: { type: 'string', description: 're-read window behind the cursor (default 5m)' },
      initial_lookback: INITIAL_LOOKBACK_PROPERTY,
      max_pages: { type: 'integer', minimum: 1, maximum: 100 },
      issue_comment_edit_debounce_ms: { type: 'integer', minimum: 0, description: 'with issue_comment.edited in events: edits of one comment within this window are one event (default 120000; 0 = every edit seen)' },
    },
  },
  validate,
  poll: (ctx, cursor) => poll(ctx, cursor),
  check,
};

export default githubSource;
