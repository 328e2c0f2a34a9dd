// A fake GitHub REST API on 127.0.0.1 implementing the subset orgloop uses, with GitHub's
// status codes and headers: token auth (401), rate-limit headers and exhaustion (403 with
// x-ratelimit-remaining: 0), ETag / If-None-Match -> 304 (free, as on GitHub), Link pagination,
// `since` filters, and repository hooks (CRUD). Tests and benchmarks seed `state` directly.
// Issues as GitHub lists them: `/issues` holds PRs too (with a `pull_request` key), the
// repository's issue events newest first (labeled, assigned, ready_for_review...; GitHub records no
// `opened` event), and check suites per commit (`HEAD` is the default branch's head).
//
//   const gh = await startFakeGithub({ token: 't' });
//   gh.addPull('acme/api', { number: 1, title: 'x' });
//   ... base_url: gh.url ...
//   await gh.close();

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeUser {
  login: string;
  type: 'User' | 'Bot';
  id?: number;
}

export interface FakeRepo {
  pulls: any[];
  reviews: Map<number, any[]>;
  reviewComments: any[];
  issueComments: any[];
  runs: any[];
  hooks: any[];
  issues: any[];
  issueEvents: any[];
  checkSuites: any[];
}

export interface FakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  auth: string | undefined;
  ifNoneMatch: string | undefined;
  body?: unknown;
}

export interface FakeGithubState {
  token: string | null;
  repos: Map<string, FakeRepo>;
  viewer: FakeUser;
  rate: { limit: number; remaining: number; reset: number };
  /** requests answered, in order */
  requests: FakeRequest[];
  /** set to answer the next N requests with a secondary rate limit (403 + Retry-After) */
  secondaryLimitNext: number;
  /** server clock; tests may move it */
  now: () => number;
  nextId: number;
}

export interface FakeGithub {
  url: string;
  state: FakeGithubState;
  close(): Promise<void>;
  repo(name: string): FakeRepo;
  addPull(repo: string, pr: Partial<any> & { number: number }): any;
  addReview(repo: string, number: number, review: Partial<any>): any;
  addReviewComment(repo: string, number: number, comment: Partial<any>): any;
  addIssueComment(repo: string, number: number, comment: Partial<any>): any;
  addRun(repo: string, run: Partial<any>): any;
  addIssue(repo: string, issue: Partial<any> & { number: number }): any;
  /** labels an issue (or PR) as `actor`: the label event, and the issue updated at that moment */
  labelIssue(repo: string, number: number, label: string, actor?: FakeUser): { issue: any; event: any };
  assignIssue(repo: string, number: number, assignee: FakeUser, actor?: FakeUser): { issue: any; event: any };
  /** a draft PR marked ready for review: the PR updated and a `ready_for_review` issue event */
  markReady(repo: string, number: number, actor?: FakeUser): { pull: any; event: any };
  /** `at`: when the edit was made (default now; GitHub's times are whole seconds) */
  editIssueComment(repo: string, id: number, body: string, at?: number): any;
  addCheckSuite(repo: string, suite: Partial<any>): any;
}

export interface FakeGithubOptions {
  token?: string | null;
  rateLimit?: number;
  viewer?: FakeUser;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

export async function startFakeGithub(opts: FakeGithubOptions = {}): Promise<FakeGithub> {
  const state: FakeGithubState = {
    token: opts.token === undefined ? 'gh-test-token' : opts.token,
    repos: new Map(),
    viewer: opts.viewer ?? { login: 'octocat', type: 'User', id: 1 },
    rate: { limit: opts.rateLimit ?? 5000, remaining: opts.rateLimit ?? 5000, reset: Math.floor(Date.now() / 1000) + 3600 },
    requests: [],
    secondaryLimitNext: 0,
    now: () => Date.now(),
    nextId: 1000,
  };
  const repo = (name: string): FakeRepo => {
    let r = state.repos.get(name);
    if (!r) state.repos.set(name, (r = { pulls: [], reviews: new Map(), reviewComments: [], issueComments: [], runs: [], hooks: [], issues: [], issueEvents: [], checkSuites: [] }));
    return r;
  };
  let baseUrl = '';
  const user = (u?: FakeUser) => ({ login: u?.login ?? 'alice', type: u?.type ?? 'User', id: u?.id ?? 7 });

  const server = createServer(async (req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(u.searchParams);
    const record: FakeRequest = {
      method: req.method ?? 'GET',
      path: u.pathname,
      query,
      status: 0,
      auth: req.headers.authorization,
      ifNoneMatch: req.headers['if-none-match'] as string | undefined,
    };
    state.requests.push(record);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      send(res, status, body, { ...rateHeaders(), date: new Date(state.now()).toUTCString(), ...headers });
    };
    const rateHeaders = () => ({
      'x-ratelimit-limit': String(state.rate.limit),
      'x-ratelimit-remaining': String(state.rate.remaining),
      'x-ratelimit-reset': String(state.rate.reset),
      'x-ratelimit-used': String(state.rate.limit - state.rate.remaining),
      'x-ratelimit-resource': 'core',
    });
    try {
      if (req.method !== 'GET') record.body = await readBody(req);
      // auth
      if (state.token !== null) {
        const auth = req.headers.authorization ?? '';
        const m = /^(?:Bearer|token)\s+(.+)$/i.exec(auth);
        if (!m || m[1] !== state.token) return reply(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
      }
      if (u.pathname === '/rate_limit') {
        return reply(200, { resources: { core: { ...state.rate, used: state.rate.limit - state.rate.remaining } }, rate: state.rate });
      }
      if (state.secondaryLimitNext > 0) {
        state.secondaryLimitNext--;
        return reply(403, { message: 'You have exceeded a secondary rate limit.' }, { 'retry-after': '60' });
      }
      if (state.rate.remaining <= 0) {
        return reply(403, { message: `API rate limit exceeded for user ID ${state.viewer.id ?? 1}.` });
      }
      const result = route(req.method ?? 'GET', u, record.body);
      if (!result) return reply(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
      const [status, body, extra] = result;
      if (req.method === 'GET' && status === 200) {
        const etag = `W/"${createHash('sha1').update(JSON.stringify(body)).digest('hex')}"`;
        if (record.ifNoneMatch && record.ifNoneMatch === etag) return reply(304, undefined, { etag, ...extra });
        state.rate.remaining--;
        return reply(200, body, { etag, ...extra });
      }
      state.rate.remaining--;
      if (status === 204) {
        record.status = 204;
        res.writeHead(204, rateHeaders());
        return res.end();
      }
      return reply(status, body, extra);
    } catch (err) {
      return reply(500, { message: String((err as Error).message) });
    }
  });

  function paginate(u: URL, items: any[]): [number, any[], Record<string, string>] {
    const perPage = Math.min(100, Number(u.searchParams.get('per_page') ?? 30));
    const page = Math.max(1, Number(u.searchParams.get('page') ?? 1));
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const links: string[] = [];
    const link = (p: number, rel: string) => {
      const nu = new URL(baseUrl + u.pathname + u.search);
      nu.searchParams.set('page', String(p));
      links.push(`<${nu.toString()}>; rel="${rel}"`);
    };
    if (page < last) {
      link(page + 1, 'next');
      link(last, 'last');
    }
    if (page > 1) {
      link(1, 'first');
      link(page - 1, 'prev');
    }
    return [200, slice, links.length ? { link: links.join(', ') } : {}];
  }

  function sinceFilter(u: URL, items: any[]): any[] {
    const since = u.searchParams.get('since');
    let out = since ? items.filter((c) => Date.parse(c.updated_at) >= Date.parse(since)) : [...items];
    const dir = u.searchParams.get('direction') ?? 'desc';
    const key = u.searchParams.get('sort') === 'updated' ? 'updated_at' : 'created_at';
    out.sort((a, b) => Date.parse(a[key]) - Date.parse(b[key]) || a.id - b.id);
    if (dir === 'desc') out = out.reverse();
    return out;
  }

  function route(method: string, u: URL, body: any): [number, unknown, Record<string, string>?] | null {
    const p = u.pathname;
    if (method === 'GET' && p === '/user') return [200, state.viewer];
    const m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(p);
    if (!m) return null;
    const name = `${m[1]}/${m[2]}`;
    const r = state.repos.get(name);
    if (!r) return null;
    const rest = m[3] ?? '';
    if (method === 'GET' && rest === '') return [200, { id: 1, full_name: name, private: false, html_url: `https://github.com/${name}` }];
    if (method === 'GET' && rest === '/pulls') {
      const st = u.searchParams.get('state') ?? 'open';
      let items = r.pulls.filter((pr) => st === 'all' || pr.state === st);
      items = [...items].sort((a, b) => Date.parse(b.updated_at) - Date.parse(a.updated_at));
      if (u.searchParams.get('direction') === 'asc') items.reverse();
      return paginate(u, items);
    }
    let mm = /^\/pulls\/(\d+)$/.exec(rest);
    if (method === 'GET' && mm) {
      const pr = r.pulls.find((x) => x.number === Number(mm![1]));
      return pr ? [200, pr] : null;
    }
    if (method === 'GET' && rest === '/issues') {
      const st = u.searchParams.get('state') ?? 'open';
      const items = allIssues(r).filter((i) => st === 'all' || i.state === st);
      return paginate(u, sinceFilter(u, items));
    }
    mm = /^\/issues\/(\d+)$/.exec(rest);
    if (method === 'GET' && mm) {
      const issue = allIssues(r).find((x) => x.number === Number(mm![1]));
      return issue ? [200, issue] : null;
    }
    if (method === 'GET' && rest === '/issues/events') {
      const items = [...r.issueEvents].sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || b.id - a.id);
      return paginate(u, items);
    }
    mm = /^\/commits\/([^/]+)\/check-suites$/.exec(rest);
    if (method === 'GET' && mm) {
      const ref = decodeURIComponent(mm[1]!);
      const items = r.checkSuites.filter((cs) => (ref === 'HEAD' ? cs.head_branch === 'main' : cs.head_sha === ref || cs.head_branch === ref));
      const [s, slice, headers] = paginate(u, items);
      return [s, { total_count: items.length, check_suites: slice }, headers];
    }
    mm = /^\/pulls\/(\d+)\/reviews$/.exec(rest);
    if (method === 'GET' && mm) {
      if (!r.pulls.some((pr) => pr.number === Number(mm![1]))) return null;
      return paginate(u, r.reviews.get(Number(mm[1])) ?? []);
    }
    if (method === 'GET' && rest === '/pulls/comments') return paginate(u, sinceFilter(u, r.reviewComments));
    if (method === 'GET' && rest === '/issues/comments') return paginate(u, sinceFilter(u, r.issueComments));
    if (method === 'GET' && rest === '/actions/runs') {
      const status = u.searchParams.get('status');
      const items = r.runs
        .filter((run) => !status || run.status === status || run.conclusion === status)
        .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
      const [s, slice, headers] = paginate(u, items);
      return [s, { total_count: items.length, workflow_runs: slice }, headers];
    }
    // hooks
    if (rest === '/hooks') {
      if (method === 'GET') return [200, r.hooks.map(publicHook)];
      if (method === 'POST') {
        const err = hookError(body);
        if (err) return [422, { message: 'Validation Failed', errors: [{ resource: 'Hook', code: 'custom', message: err }] }];
        if (r.hooks.some((h) => h.config.url === body.config.url)) {
          return [422, { message: 'Validation Failed', errors: [{ resource: 'Hook', code: 'custom', message: 'Hook already exists on this repository' }] }];
        }
        const now = iso(state.now());
        const hook = {
          type: 'Repository',
          id: state.nextId++,
          name: 'web',
          active: body.active ?? true,
          events: body.events ?? ['push'],
          config: { ...body.config },
          created_at: now,
          updated_at: now,
        };
        r.hooks.push(hook);
        return [201, publicHook(hook)];
      }
    }
    mm = /^\/hooks\/(\d+)$/.exec(rest);
    if (mm) {
      const hook = r.hooks.find((h) => h.id === Number(mm![1]));
      if (!hook) return null;
      if (method === 'GET') return [200, publicHook(hook)];
      if (method === 'DELETE') {
        r.hooks = r.hooks.filter((h) => h !== hook);
        return [204, undefined];
      }
      if (method === 'PATCH') {
        if (body.events) hook.events = body.events;
        if (body.active !== undefined) hook.active = body.active;
        if (body.config) hook.config = { ...hook.config, ...body.config };
        hook.updated_at = iso(state.now());
        return [200, publicHook(hook)];
      }
    }
    return null;
  }

  /** PRs are issues to GitHub: the issue listing shows them with a `pull_request` key */
  function allIssues(r: FakeRepo): any[] {
    const prs = r.pulls.map((pr) => ({
      id: pr.id + 500_000,
      number: pr.number,
      title: pr.title,
      body: pr.body,
      state: pr.state,
      user: pr.user,
      labels: pr.labels,
      created_at: pr.created_at,
      updated_at: pr.updated_at,
      closed_at: pr.closed_at,
      html_url: pr.html_url,
      pull_request: { url: `${baseUrl}/repos/x/pulls/${pr.number}`, html_url: pr.html_url },
    }));
    return [...r.issues, ...prs];
  }

  function hookError(body: any): string | null {
    if (!body || typeof body !== 'object') return 'body required';
    if (!body.config?.url) return 'config.url is required';
    if (!/^https?:\/\//.test(body.config.url)) return 'config.url is not a valid URL';
    return null;
  }

  function publicHook(h: any) {
    // GitHub never returns the secret.
    const config = { ...h.config };
    if (config.secret) config.secret = '********';
    return { ...h, config, url: `${baseUrl}/hooks/${h.id}` };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const htmlBase = (r: string) => `https://github.com/${r}`;

  const fake: FakeGithub = {
    url: baseUrl,
    state,
    repo,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
    addPull(r, pr) {
      const now = iso(state.now());
      const full = {
        id: state.nextId++,
        state: 'open',
        title: `PR ${pr.number}`,
        body: '',
        user: user(),
        created_at: now,
        updated_at: now,
        closed_at: null,
        merged_at: null,
        draft: false,
        head: { ref: `feature-${pr.number}` },
        base: { ref: 'main' },
        labels: [],
        html_url: `${htmlBase(r)}/pull/${pr.number}`,
        ...pr,
      };
      const list = repo(r).pulls;
      const i = list.findIndex((x) => x.number === pr.number);
      if (i >= 0) list[i] = full;
      else list.push(full);
      return full;
    },
    addReview(r, number, review) {
      const now = iso(state.now());
      const full = {
        id: state.nextId++,
        user: user(),
        body: '',
        state: 'COMMENTED',
        submitted_at: now,
        html_url: `${htmlBase(r)}/pull/${number}#pullrequestreview-${state.nextId}`,
        pull_request_url: `${baseUrl}/repos/${r}/pulls/${number}`,
        ...review,
      };
      const rr = repo(r);
      rr.reviews.set(number, [...(rr.reviews.get(number) ?? []), full]);
      const pr = rr.pulls.find((p) => p.number === number);
      if (pr) pr.updated_at = full.submitted_at; // a review updates the PR, as on GitHub
      return full;
    },
    addReviewComment(r, number, comment) {
      const now = iso(state.now());
      const full = {
        id: state.nextId++,
        user: user(),
        body: '',
        path: 'src/index.ts',
        line: 1,
        diff_hunk: '@@ -1 +1 @@',
        created_at: now,
        updated_at: now,
        html_url: `${htmlBase(r)}/pull/${number}#discussion_r${state.nextId}`,
        pull_request_url: `${baseUrl}/repos/${r}/pulls/${number}`,
        ...comment,
      };
      repo(r).reviewComments.push(full);
      return full;
    },
    addIssueComment(r, number, comment) {
      const now = iso(state.now());
      const isPr = repo(r).pulls.some((p) => p.number === number);
      const full = {
        id: state.nextId++,
        user: user(),
        body: '',
        created_at: now,
        updated_at: now,
        html_url: `${htmlBase(r)}/${isPr ? 'pull' : 'issues'}/${number}#issuecomment-${state.nextId}`,
        issue_url: `${baseUrl}/repos/${r}/issues/${number}`,
        ...comment,
      };
      repo(r).issueComments.push(full);
      return full;
    },
    addRun(r, run) {
      const now = iso(state.now());
      const id = state.nextId++;
      const full = {
        id,
        name: 'CI',
        display_title: 'CI',
        status: 'completed',
        conclusion: 'success',
        event: 'pull_request',
        head_branch: 'main',
        head_sha: 'abc123',
        run_attempt: 1,
        actor: user(),
        triggering_actor: user(),
        pull_requests: [],
        created_at: now,
        updated_at: now,
        html_url: `${htmlBase(r)}/actions/runs/${id}`,
        ...run,
      };
      repo(r).runs.push(full);
      return full;
    },
    addIssue(r, issue) {
      const now = iso(state.now());
      const full = {
        id: state.nextId++,
        state: 'open',
        title: `Issue ${issue.number}`,
        body: '',
        user: user(),
        labels: [],
        assignees: [],
        created_at: now,
        updated_at: now,
        closed_at: null,
        html_url: `${htmlBase(r)}/issues/${issue.number}`,
        ...issue,
      };
      repo(r).issues.push(full);
      return full;
    },
    labelIssue(r, number, label, actor) {
      const rr = repo(r);
      const target = rr.issues.find((i) => i.number === number) ?? rr.pulls.find((p) => p.number === number);
      if (!target) throw new Error(`no issue #${number} in ${r}`);
      const now = iso(state.now());
      const l = { id: state.nextId++, name: label, color: 'ededed' };
      target.labels = [...(target.labels ?? []), l];
      target.updated_at = now;
      const event = issueEvent(r, 'labeled', number, actor, now, { label: { name: label, color: 'ededed' } });
      return { issue: rr.issues.find((i) => i.number === number) ?? allIssues(rr).find((i) => i.number === number), event };
    },
    assignIssue(r, number, assignee, actor) {
      const rr = repo(r);
      const target = rr.issues.find((i) => i.number === number);
      if (!target) throw new Error(`no issue #${number} in ${r}`);
      const now = iso(state.now());
      target.assignees = [...(target.assignees ?? []), user(assignee)];
      target.assignee = target.assignees[0];
      target.updated_at = now;
      const event = issueEvent(r, 'assigned', number, actor, now, { assignee: user(assignee) });
      return { issue: target, event };
    },
    markReady(r, number, actor) {
      const pr = repo(r).pulls.find((p) => p.number === number);
      if (!pr) throw new Error(`no PR #${number} in ${r}`);
      const now = iso(state.now());
      pr.draft = false;
      pr.updated_at = now;
      return { pull: pr, event: issueEvent(r, 'ready_for_review', number, actor, now, {}) };
    },
    editIssueComment(r, id, body, at) {
      const c = repo(r).issueComments.find((x) => x.id === id);
      if (!c) throw new Error(`no issue comment ${id} in ${r}`);
      c.body = body;
      c.updated_at = iso(at ?? state.now());
      return c;
    },
    addCheckSuite(r, suite) {
      const now = iso(state.now());
      const full = {
        id: state.nextId++,
        head_branch: 'main',
        head_sha: 'abc123',
        status: 'completed',
        conclusion: 'success',
        before: '000000',
        after: 'abc123',
        app: { id: 15368, slug: 'github-actions', name: 'GitHub Actions' },
        pull_requests: [],
        created_at: now,
        updated_at: now,
        url: `${baseUrl}/repos/${r}/check-suites/${state.nextId}`,
        ...suite,
      };
      repo(r).checkSuites.push(full);
      return full;
    },
  };

  /** A repository issue event, as GET /repos/{o}/{r}/issues/events shows it (with its issue). */
  function issueEvent(r: string, event: string, number: number, actor: FakeUser | undefined, at: string, extra: Record<string, unknown>): any {
    const rr = repo(r);
    const e = { id: state.nextId++, event, actor: user(actor), created_at: at, ...extra, issue: { ...allIssues(rr).find((i) => i.number === number) } };
    rr.issueEvents.push(e);
    return e;
  }
  return fake;
}

export const start = startFakeGithub;
