// Source `linear` (polling): issue and comment changes for a team (optionally one project),
// through Linear's GraphQL API.
//
// Cursor (JSON): { v: 1, issues: Page, comments: Page, states: { <issue id>: <state name> } }
// where Page = { since, resume?: { after, floor, newest } }. Each poll asks for items with
// updatedAt > since - overlap, newest first, following pageInfo.endCursor. If a poll stops
// before the last page (max_pages), `resume` keeps the position and the next poll continues
// there before `since` moves, so a burst is never skipped.
// Events (OrgLoop's shapes, lib/linear-events.ts): issue.created, issue.state_changed,
// issue.assignee_changed, issue.priority_changed, issue.labels_changed (each issue's state,
// assignee, priority and labels are remembered in the cursor), comment.created; ours besides:
// issue.updated (a change none of those cover) and comment.updated. dedupe_key = id + updatedAt
// (+ the fact; comments: id when new), so the overlap window never produces an event twice.

import type { EmittedEvent, PollResult, ProviderContext, SourceProvider } from '../types.js';
import { durationOr } from '../lib/duration.js';
import { INITIAL_LOOKBACK_PROPERTY, pollWindowIssues } from '../lib/poll-window.js';
import { LinearClient, LinearRateLimitError, linearApiKey } from '../lib/linear-api.js';
import { assigneeChanged, commentCreated, issueCreated, labelNames, labelsChanged, priorityChanged, stateChanged } from '../lib/linear-events.js';

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
      issue { id identifier title url team { key } project { name } assignee { name displayName } creator { name displayName } }
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
  /** state names of issues, as cursors before facts were kept remember them */
  states: Record<string, string>;
  /** issue id -> what was last seen of it (the 5,000 most recently changed) */
  facts?: Record<string, Facts>;
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

/** What the cursor remembers of an issue to tell what changed: state, assignee, priority, labels. */
type Facts = [state: string | null, assignee: string | null, priority: number | null, labels: string];

function factsOf(issue: any): Facts {
  return [issue.state?.name ?? null, issue.assignee ? name(issue.assignee) : null, issue.priority ?? null, labelNames(issue).sort().join('\n')];
}

/**
 * The events one changed issue yields, as OrgLoop's Linear connector reports them: created when
 * first seen (and new within the window), else one per remembered fact that changed. An update
 * none of those cover is `issue.updated` (ours; OrgLoop reports nothing).
 */
function issueEvents(config: Record<string, unknown>, issue: any, prev: Facts | undefined, floor: number): EmittedEvent[] {
  const key = (what: string) => `issue:${issue.id}:${issue.updatedAt}${what}`;
  const opts = (what: string) => ({ team: config.team, dedupeKey: key(what) });
  if (prev === undefined) {
    if (Date.parse(issue.createdAt) >= floor) return [issueCreated(issue, opts(''))];
    return [updated(config, issue, key(''))];
  }
  const now = factsOf(issue);
  const out: EmittedEvent[] = [];
  if (prev[0] !== null && now[0] !== null && prev[0] !== now[0]) out.push(stateChanged(issue, prev[0], opts('')));
  if (prev[1] !== now[1]) out.push(assigneeChanged(issue, prev[1], opts(':assignee')));
  if (prev[2] !== now[2]) out.push(priorityChanged(issue, prev[2], opts(':priority')));
  if (prev[3] !== now[3]) out.push(labelsChanged(issue, prev[3] ? prev[3].split('\n') : [], opts(':labels')));
  return out.length ? out : [updated(config, issue, key(''))];
}

function updated(config: Record<string, unknown>, issue: any, dedupeKey: string): EmittedEvent {
  const e = issueCreated(issue, { team: config.team, dedupeKey });
  e.provenance!.platform_event = 'issue.updated';
  e.payload.action = 'updated';
  e.time = issue.updatedAt;
  return e;
}

function commentEvent(comment: any, floor: number): EmittedEvent {
  const created = Date.parse(comment.createdAt) >= floor;
  const e = commentCreated(comment, { dedupeKey: created ? `comment:${comment.id}` : `comment:${comment.id}:${comment.updatedAt}`, botName: comment.botActor?.name ?? null });
  e.payload.team = comment.issue?.team?.key ?? null;
  e.payload.project = comment.issue?.project?.name ?? null;
  e.payload.author = name(comment.user) ?? comment.botActor?.name ?? null;
  if (!created) {
    // an edit: OrgLoop's webhook calls it comment.update; the poll keeps our earlier name
    e.provenance!.platform_event = 'comment.updated';
    e.payload.action = 'updated';
    e.time = comment.updatedAt;
  }
  return e;
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
    next.facts ??= {};
    for (const issue of [...issues.nodes].reverse()) {
      const facts = next.facts[issue.id] ?? (next.states[issue.id] !== undefined ? ([next.states[issue.id]!, ...factsOf(issue).slice(1)] as Facts) : undefined);
      for (const e of issueEvents(config, issue, facts, issues.floor)) if (wanted(e)) events.push(e);
      delete next.states[issue.id];
      delete next.facts[issue.id];
      next.facts[issue.id] = factsOf(issue);
    }
    const keys = Object.keys(next.facts);
    for (const k of keys.slice(0, Math.max(0, keys.length - MAX_REMEMBERED_STATES))) delete next.facts[k];
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
  issues.push(...pollWindowIssues(config));
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
      initial_lookback: INITIAL_LOOKBACK_PROPERTY,
      max_pages: { type: 'integer', minimum: 1, maximum: 200 },
    },
  },
  validate,
  poll: (ctx, cursor) => poll(ctx, cursor),
  check,
};

export default linearSource;
