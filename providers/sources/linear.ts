// Source `linear` (polling): issue and comment changes for a team (optionally one project),
// through Linear's GraphQL API.
//
// Cursor (JSON): { v: 1, issues: Page, comments: Page, states: { <issue id>: <state name> } }
// where Page = { since, resume?: { after, floor, newest } }. Each poll asks for items with
// updatedAt > since - overlap, newest first, following pageInfo.endCursor. If a poll stops
// before the last page (max_pages), `resume` keeps the position and the next poll continues
// there before `since` moves, so a burst is never skipped.
// Events: issue.created, issue.updated, issue.state_changed (state names remembered in the
// cursor), comment.created, comment.updated. dedupe_key = id + updatedAt (comments: id when new),
// so the overlap window never produces an event twice.

import type { EmittedEvent, PollResult, ProviderContext, SourceProvider } from '../types.js';
import { durationIssue, durationOr } from '../lib/duration.js';
import { LinearClient, LinearRateLimitError, linearApiKey } from '../lib/linear-api.js';

const ISSUES_QUERY = `query OrgloopIssues($filter: IssueFilter, $first: Int, $after: String) {
  issues(filter: $filter, first: $first, after: $after, orderBy: updatedAt) {
    nodes {
      id identifier title description url priority priorityLabel createdAt updatedAt
      state { id name type }
      assignee { id name displayName }
      creator { id name displayName }
      labels { nodes { name } }
      project { id name }
      team { id key name }
    }
    pageInfo { hasNextPage endCursor }
  }
}`;

const COMMENTS_QUERY = `query OrgloopComments($filter: CommentFilter, $first: Int, $after: String) {
  comments(filter: $filter, first: $first, after: $after, orderBy: updatedAt) {
    nodes {
      id body url createdAt updatedAt
      user { id name displayName }
      botActor { name }
      issue { id identifier title url team { key } project { name } }
    }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const VIEWER_QUERY = `query OrgloopViewer { viewer { id name email } }`;

interface Page {
  since: string;
  resume?: { after: string; floor: string; newest: string };
}
interface Cursor {
  v: 1;
  issues: Page;
  comments: Page;
  states: Record<string, string>;
  /** epoch ms: rate-limited until then */
  blocked_until?: number;
}

const PAGE_SIZE = 50;
const DEFAULT_MAX_PAGES = 20;
const DEFAULT_OVERLAP_MS = 5 * 60_000;
const MAX_REMEMBERED_STATES = 5000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function teamFilter(team: unknown): Record<string, unknown> | undefined {
  if (typeof team !== 'string' || !team) return undefined;
  return UUID.test(team) ? { id: { eq: team } } : { key: { eq: team } };
}
export function projectFilter(project: unknown): Record<string, unknown> | undefined {
  if (typeof project !== 'string' || !project) return undefined;
  return UUID.test(project) ? { id: { eq: project } } : { name: { eq: project } };
}

function scope(config: Record<string, unknown>): Record<string, unknown> {
  const f: Record<string, unknown> = {};
  const t = teamFilter(config.team);
  const p = projectFilter(config.project);
  if (t) f.team = t;
  if (p) f.project = p;
  return f;
}

const later = (a: string, b: string) => (Date.parse(b) > Date.parse(a) ? b : a);
const name = (u: any) => u?.displayName ?? u?.name ?? null;

interface Connection<T> {
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** Walks one connection from `page` (resuming if needed); returns the nodes and the next Page. */
async function walk<T extends { updatedAt: string }>(
  client: LinearClient,
  op: string,
  query: string,
  field: 'issues' | 'comments',
  baseFilter: Record<string, unknown>,
  page: Page,
  overlapMs: number,
  maxPages: number,
): Promise<{ nodes: T[]; next: Page; floor: number }> {
  const floorIso = page.resume?.floor ?? new Date(Date.parse(page.since) - overlapMs).toISOString();
  let after: string | null = page.resume?.after ?? null;
  let newest = page.resume?.newest ?? page.since;
  const nodes: T[] = [];
  for (let i = 0; i < maxPages; i++) {
    const data = await client.query<Record<string, Connection<T>>>(op, query, {
      filter: { ...baseFilter, updatedAt: { gt: floorIso } },
      first: PAGE_SIZE,
      after,
    });
    const conn = data[field]!;
    for (const n of conn.nodes) {
      nodes.push(n);
      newest = later(newest, n.updatedAt);
    }
    if (!conn.pageInfo.hasNextPage || !conn.pageInfo.endCursor) {
      return { nodes, next: { since: newest }, floor: Date.parse(floorIso) };
    }
    after = conn.pageInfo.endCursor;
  }
  return { nodes, next: { since: page.since, resume: { after: after!, floor: floorIso, newest } }, floor: Date.parse(floorIso) };
}

function issueEvent(config: Record<string, unknown>, issue: any, previous: string | undefined, floor: number): EmittedEvent {
  const state = issue.state?.name ?? null;
  let kind = 'issue.updated';
  if (previous !== undefined && state !== null && previous !== state) kind = 'issue.state_changed';
  else if (previous === undefined && Date.parse(issue.createdAt) >= floor) kind = 'issue.created';
  const author = name(issue.creator);
  return {
    type: 'resource.changed',
    provenance: { platform: 'linear', platform_event: kind, author: author ?? undefined, author_type: 'user', url: issue.url, issue_id: issue.identifier },
    payload: {
      action: kind.split('.')[1],
      team: issue.team?.key ?? config.team ?? null,
      project: issue.project?.name ?? null,
      id: issue.id,
      issue_id: issue.identifier,
      number: issue.identifier,
      title: issue.title,
      url: issue.url,
      author,
      body: issue.description ?? '',
      state,
      state_type: issue.state?.type ?? null,
      previous_state: kind === 'issue.state_changed' ? previous : null,
      assignee: name(issue.assignee),
      priority: issue.priority ?? null,
      priority_label: issue.priorityLabel ?? null,
      labels: (issue.labels?.nodes ?? []).map((l: any) => l.name),
      created_at: issue.createdAt,
      updated_at: issue.updatedAt,
    },
    dedupe_key: `issue:${issue.id}:${issue.updatedAt}`,
    time: issue.updatedAt,
  };
}

function commentEvent(comment: any, floor: number): EmittedEvent {
  const created = Date.parse(comment.createdAt) >= floor;
  const bot = !!comment.botActor && !comment.user;
  const author = name(comment.user) ?? comment.botActor?.name ?? null;
  const kind = created ? 'comment.created' : 'comment.updated';
  return {
    type: 'resource.changed',
    provenance: { platform: 'linear', platform_event: kind, author: author ?? undefined, author_type: bot ? 'bot' : 'user', url: comment.url, issue_id: comment.issue?.identifier },
    payload: {
      action: kind.split('.')[1],
      team: comment.issue?.team?.key ?? null,
      project: comment.issue?.project?.name ?? null,
      comment_id: comment.id,
      issue_id: comment.issue?.identifier ?? null,
      number: comment.issue?.identifier ?? null,
      title: comment.issue?.title ?? null,
      url: comment.url,
      issue_url: comment.issue?.url ?? null,
      author,
      body: comment.body ?? '',
      created_at: comment.createdAt,
      updated_at: comment.updatedAt,
    },
    dedupe_key: created ? `comment:${comment.id}` : `comment:${comment.id}:${comment.updatedAt}`,
    time: comment.updatedAt,
  };
}

function parseCursor(raw: string | null): Cursor | null {
  if (!raw) return null;
  try {
    const c = JSON.parse(raw) as Cursor;
    if (c?.v === 1 && c.issues?.since && c.comments?.since) return { ...c, states: c.states ?? {} };
  } catch {
    /* restart below */
  }
  return null;
}

async function poll(ctx: ProviderContext, raw: string | null): Promise<PollResult> {
  const config = ctx.config;
  const lookbackMs = durationOr(config.initial_lookback, 0);
  const cursor: Cursor = parseCursor(raw) ?? (() => {
    const since = new Date(Date.now() - lookbackMs).toISOString();
    return { v: 1 as const, issues: { since }, comments: { since }, states: {} };
  })();
  if (cursor.blocked_until && cursor.blocked_until > Date.now()) {
    return { events: [], cursor: raw, etag: null, retryAfterMs: cursor.blocked_until - Date.now() };
  }
  const client = new LinearClient({ baseUrl: config.base_url, apiKey: linearApiKey(config, (n) => ctx.env(n)), signal: ctx.signal });
  const overlapMs = durationOr(config.overlap, DEFAULT_OVERLAP_MS);
  const maxPages = typeof config.max_pages === 'number' ? config.max_pages : DEFAULT_MAX_PAGES;
  // `events` may name kinds (issue, comment) or exact events (issue.state_changed).
  const listed: string[] | null = Array.isArray(config.events) && config.events.length ? config.events.map(String) : null;
  const wanted = (e: EmittedEvent) => {
    const pe = String(e.provenance!.platform_event);
    return !listed || listed.includes(pe) || listed.includes(pe.split('.')[0]!);
  };
  const base = scope(config);
  const events: EmittedEvent[] = [];
  const next: Cursor = JSON.parse(JSON.stringify(cursor));
  delete next.blocked_until;
  let retryAfterMs: number | undefined;
  try {
    const issues = await walk<any>(client, 'OrgloopIssues', ISSUES_QUERY, 'issues', base, cursor.issues, overlapMs, maxPages);
    // oldest first, so a state seen twice in one poll reports each transition in order
    for (const issue of [...issues.nodes].reverse()) {
      const prev = next.states[issue.id];
      const e = issueEvent(config, issue, prev, issues.floor);
      if (wanted(e)) events.push(e);
      if (issue.state?.name) {
        delete next.states[issue.id];
        next.states[issue.id] = issue.state.name;
      }
    }
    const keys = Object.keys(next.states);
    for (const k of keys.slice(0, Math.max(0, keys.length - MAX_REMEMBERED_STATES))) delete next.states[k];
    next.issues = issues.next;

    const commentFilter: Record<string, unknown> = {};
    if (Object.keys(base).length) commentFilter.issue = base;
    const comments = await walk<any>(client, 'OrgloopComments', COMMENTS_QUERY, 'comments', commentFilter, cursor.comments, overlapMs, maxPages);
    for (const c of [...comments.nodes].reverse()) {
      const e = commentEvent(c, comments.floor);
      if (wanted(e)) events.push(e);
    }
    next.comments = comments.next;
  } catch (err) {
    if (!(err instanceof LinearRateLimitError)) throw err;
    retryAfterMs = Math.max(1000, err.retryAt - Date.now() + 1000);
    next.blocked_until = Date.now() + retryAfterMs;
    ctx.log.warn(err.message);
  }
  return { events, cursor: JSON.stringify(next), etag: null, retryAfterMs };
}

async function check(ctx: ProviderContext): Promise<{ ok: boolean; detail: string }> {
  const client = new LinearClient({ baseUrl: ctx.config.base_url, apiKey: linearApiKey(ctx.config, (n) => ctx.env(n)), signal: ctx.signal });
  try {
    const data = await client.query<{ viewer: { name: string; email?: string } }>('OrgloopViewer', VIEWER_QUERY);
    let detail = `authenticated as ${data.viewer.name}${data.viewer.email ? ` <${data.viewer.email}>` : ''}`;
    if (ctx.config.team) {
      const t = await client.query<{ teams: { nodes: Array<{ key: string }> } }>(
        'OrgloopTeam',
        'query OrgloopTeam($filter: TeamFilter) { teams(filter: $filter) { nodes { id key name } } }',
        { filter: teamFilter(ctx.config.team) },
      );
      if (t.teams.nodes.length === 0) return { ok: false, detail: `${detail}, but team ${JSON.stringify(ctx.config.team)} was not found` };
      detail += `; team ${ctx.config.team} found`;
    }
    return { ok: true, detail };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

function validate(config: Record<string, unknown>): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  if (typeof config.team !== 'string' || !config.team) issues.push({ path: 'team', message: 'team (a Linear team key such as ENG) is required' });
  for (const k of ['overlap', 'initial_lookback']) {
    const i = durationIssue(config, k);
    if (i && !(k === 'initial_lookback' && /zero/.test(i.message))) issues.push(i);
  }
  return issues;
}

export const linearSource: SourceProvider = {
  kind: 'source',
  name: 'linear',
  description: 'Polls Linear for issue and comment changes in a team or project',
  polling: true,
  configSchema: {
    type: 'object',
    properties: {
      team: { type: 'string', description: 'team key (ENG) or id' },
      project: { type: 'string', description: 'project name or id (optional)' },
      api_key: { type: 'string', sensitive: true, description: 'write "${LINEAR_API_KEY}"; defaults to $LINEAR_API_KEY' },
      base_url: { type: 'string', description: 'API origin (default https://api.linear.app)' },
      events: { type: 'array', items: { type: 'string' } },
      overlap: { type: 'string' },
      initial_lookback: { type: 'string' },
      max_pages: { type: 'integer', minimum: 1, maximum: 200 },
    },
  },
  validate,
  poll: (ctx, cursor) => poll(ctx, cursor),
  check,
};

export default linearSource;
