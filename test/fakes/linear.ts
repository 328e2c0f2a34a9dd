// A fake Linear GraphQL API on 127.0.0.1 for the operations orgloop sends: issues and comments
// connections (filters team / project / updatedAt, orderBy updatedAt newest first, first/after
// pagination with pageInfo { hasNextPage endCursor }), viewer and teams. It answers with Linear's
// shapes: `{ data }` or `{ errors: [{ message, extensions: { code } }] }`, API-key auth, and
// X-RateLimit-Requests-* headers (RATELIMITED when exhausted).
//
// Operations are recognised by the root field the query selects, so any query text works as long
// as it asks for `issues(`, `comments(`, `viewer` or `teams(`.

import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeLinearState {
  apiKey: string;
  issues: any[];
  comments: any[];
  teams: Array<{ id: string; key: string; name: string }>;
  viewer: { id: string; name: string; email: string };
  rate: { limit: number; remaining: number; resetAt: number };
  requests: Array<{ operationName?: string; variables: any; authorization?: string; status: number }>;
}

export interface FakeLinear {
  url: string;
  state: FakeLinearState;
  close(): Promise<void>;
  addIssue(issue: Partial<any> & { title: string }): any;
  updateIssue(id: string, patch: Partial<any>): any;
  addComment(issueId: string, comment: Partial<any> & { body: string }): any;
}

function matchString(filter: any, value: string | undefined): boolean {
  if (!filter) return true;
  if (filter.eq !== undefined) return value === filter.eq;
  if (filter.in !== undefined) return filter.in.includes(value);
  return true;
}

function matchIssue(f: any, issue: any): boolean {
  if (!f) return true;
  if (f.team && !(matchString(f.team.key, issue.team?.key) && matchString(f.team.id, issue.team?.id))) return false;
  if (f.project && !(matchString(f.project.name, issue.project?.name) && matchString(f.project.id, issue.project?.id))) return false;
  if (f.updatedAt?.gt && !(Date.parse(issue.updatedAt) > Date.parse(f.updatedAt.gt))) return false;
  return true;
}

export async function startFakeLinear(opts: { apiKey?: string; teams?: FakeLinearState['teams'] } = {}): Promise<FakeLinear> {
  const state: FakeLinearState = {
    apiKey: opts.apiKey ?? 'lin_api_test',
    issues: [],
    comments: [],
    teams: opts.teams ?? [{ id: randomUUID(), key: 'ENG', name: 'Engineering' }],
    viewer: { id: randomUUID(), name: 'Ada Lovelace', email: 'ada@example.com' },
    rate: { limit: 1500, remaining: 1500, resetAt: Date.now() + 3600_000 },
    requests: [],
  };
  let counter = 0;
  const tick = () => new Date(Date.now() + counter++).toISOString(); // strictly increasing timestamps

  function connection(all: any[], args: { first?: number; after?: string | null }) {
    const sorted = [...all].sort((a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt) || (a.id < b.id ? 1 : -1));
    let start = 0;
    if (args.after) {
      const i = sorted.findIndex((n) => n.id === args.after);
      if (i < 0) throw Object.assign(new Error('Invalid cursor'), { code: 'INVALID_INPUT' });
      start = i + 1;
    }
    const first = Math.min(args.first ?? 50, 250);
    const nodes = sorted.slice(start, start + first);
    const hasNextPage = start + first < sorted.length;
    return { nodes, pageInfo: { hasNextPage, endCursor: nodes.length ? nodes[nodes.length - 1].id : null, hasPreviousPage: start > 0, startCursor: nodes[0]?.id ?? null } };
  }

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: any = {};
    const reply = (status: number, payload: unknown) => {
      state.requests.push({ operationName: body.operationName, variables: body.variables, authorization: req.headers.authorization, status });
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'x-ratelimit-requests-limit': String(state.rate.limit),
        'x-ratelimit-requests-remaining': String(Math.max(0, state.rate.remaining)),
        'x-ratelimit-requests-reset': String(state.rate.resetAt),
      });
      res.end(JSON.stringify(payload));
    };
    const gqlError = (status: number, code: string, message: string) =>
      reply(status, { errors: [{ message, extensions: { code, type: code.toLowerCase().replace(/_/g, ' '), userPresentableMessage: message } }] });
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://x').pathname !== '/graphql') return gqlError(404, 'NOT_FOUND', 'Not found');
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    } catch {
      return gqlError(400, 'INVALID_INPUT', 'Body is not valid JSON');
    }
    const auth = req.headers.authorization ?? '';
    if (auth !== state.apiKey && auth !== `Bearer ${state.apiKey}`) {
      return gqlError(400, 'AUTHENTICATION_ERROR', 'Authentication required, not authenticated');
    }
    if (state.rate.remaining <= 0) return gqlError(400, 'RATELIMITED', 'Rate limit exceeded');
    state.rate.remaining--;
    const q: string = body.query ?? '';
    const v = body.variables ?? {};
    try {
      if (/\bissues\s*\(/.test(q)) {
        return reply(200, { data: { issues: connection(state.issues.filter((i) => matchIssue(v.filter, i)), v) } });
      }
      if (/\bcomments\s*\(/.test(q)) {
        const f = v.filter ?? {};
        const items = state.comments.filter((c) => {
          if (f.updatedAt?.gt && !(Date.parse(c.updatedAt) > Date.parse(f.updatedAt.gt))) return false;
          if (f.issue) {
            const issue = state.issues.find((i) => i.id === c.issueId);
            if (!issue || !matchIssue(f.issue, issue)) return false;
          }
          return true;
        });
        const conn = connection(items, v);
        conn.nodes = conn.nodes.map(({ issueId, ...c }) => {
          const i = state.issues.find((x) => x.id === issueId);
          return { ...c, issue: i ? { id: i.id, identifier: i.identifier, title: i.title, url: i.url, team: { key: i.team.key }, project: i.project, assignee: i.assignee, creator: i.creator } : null };
        });
        return reply(200, { data: { comments: conn } });
      }
      if (/\bviewer\b/.test(q)) return reply(200, { data: { viewer: state.viewer } });
      if (/\bteams\s*\(/.test(q)) {
        const f = v.filter ?? {};
        return reply(200, { data: { teams: { nodes: state.teams.filter((t) => matchString(f.key, t.key) && matchString(f.id, t.id)) } } });
      }
      return gqlError(400, 'GRAPHQL_VALIDATION_FAILED', 'Cannot query this field on type "Query"');
    } catch (err) {
      return gqlError(400, (err as { code?: string }).code ?? 'INTERNAL_ERROR', (err as Error).message);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let seq = 0;
  return {
    url,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
    addIssue(issue) {
      const team = issue.team ?? state.teams[0]!;
      const now = tick();
      const n = ++seq;
      const full = {
        id: randomUUID(),
        identifier: `${team.key}-${n}`,
        description: '',
        url: `https://linear.app/acme/issue/${team.key}-${n}`,
        priority: 0,
        priorityLabel: 'No priority',
        createdAt: now,
        updatedAt: now,
        state: { id: 's-todo', name: 'Todo', type: 'unstarted' },
        assignee: null,
        creator: { id: 'u1', name: 'ada', displayName: 'Ada' },
        labels: { nodes: [] },
        project: null,
        ...issue,
        team,
      };
      state.issues.push(full);
      return full;
    },
    updateIssue(id, patch) {
      const i = state.issues.find((x) => x.id === id);
      if (!i) throw new Error(`no issue ${id}`);
      Object.assign(i, patch, { updatedAt: tick() });
      return i;
    },
    addComment(issueId, comment) {
      const now = tick();
      const full = { id: randomUUID(), url: `https://linear.app/acme/comment/${seq}`, createdAt: now, updatedAt: now, user: { id: 'u2', name: 'grace', displayName: 'Grace' }, botActor: null, issueId, ...comment };
      state.comments.push(full);
      return full;
    },
  };
}

export const start = startFakeLinear;
