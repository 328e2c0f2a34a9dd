// A small GitHub REST client shared by the `github` and `github-webhook` providers:
// token auth, conditional requests (If-None-Match -> 304 costs no rate limit), rate-limit
// headers, Link pagination and error messages a person can act on. Requests go through
// node:http(s) keep-alive agents (providers/lib/http-request.ts): thousands of polls a minute
// that mostly answer 304 cost several times less CPU than through global fetch.

import type { IncomingHttpHeaders } from 'node:http';
import { RequestTimeoutError, headerValue, keepAliveAgents, requestErrorText, sendRequest, type HttpResponse } from './http-request.js';

export const DEFAULT_GITHUB_API = 'https://api.github.com';
const API_VERSION = '2022-11-28';
/**
 * Connections per API host, shared by every GitHub source and webhook in the process: enough to
 * keep thousands of repositories polled each minute, few enough to stay well clear of GitHub's
 * secondary limit on concurrent requests.
 */
const agents = keepAliveAgents(32);

export interface RateLimit {
  remaining: number | null;
  /** epoch ms when the window resets */
  resetAt: number | null;
}

export interface GithubResponse<T> {
  status: number;
  data: T | null; // null on 304 / 204
  etag: string | null;
  notModified: boolean;
  next: string | null;
  rate: RateLimit;
  /** server clock from the Date header, epoch ms */
  serverTime: number | null;
}

/** The API refused because a rate limit is exhausted; wait until `retryAt` (epoch ms). */
export class GithubRateLimitError extends Error {
  constructor(
    readonly retryAt: number,
    detail: string,
  ) {
    super(`GitHub rate limit exceeded (${detail}); retrying after ${new Date(retryAt).toISOString()}`);
    this.name = 'GithubRateLimitError';
  }
}

export class GithubApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'GithubApiError';
  }
}

export interface GithubClientOptions {
  baseUrl?: string;
  token?: string;
  signal?: AbortSignal;
  userAgent?: string;
  /** per-request timeout, ms */
  timeoutMs?: number;
}

/** `https://github.example.com/api/v3/` -> `https://github.example.com/api/v3` */
export function normalizeBaseUrl(baseUrl: string | undefined): string {
  return (baseUrl && baseUrl.trim() ? baseUrl.trim() : DEFAULT_GITHUB_API).replace(/\/+$/, '');
}

/** Parses a Link header and returns the rel="next" URL, if any. */
export function nextLink(link: string | null): string | null {
  if (!link) return null;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?([^";]+)"?/.exec(part.trim());
    if (m && m[2]!.split(/\s+/).includes('next')) return m[1]!;
  }
  return null;
}

function parseRate(h: IncomingHttpHeaders): RateLimit {
  const rem = headerValue(h, 'x-ratelimit-remaining');
  const reset = headerValue(h, 'x-ratelimit-reset');
  return {
    remaining: rem !== null && /^\d+$/.test(rem) ? Number(rem) : null,
    resetAt: reset !== null && /^\d+$/.test(reset) ? Number(reset) * 1000 : null,
  };
}

function retryAfterMs(h: IncomingHttpHeaders): number | null {
  const v = headerValue(h, 'retry-after');
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - Date.now());
}

export class GithubClient {
  readonly baseUrl: string;
  /** the last rate-limit headers seen */
  rate: RateLimit = { remaining: null, resetAt: null };
  requests = 0;
  /** headers every request sends */
  private readonly headers: Record<string, string>;

  constructor(private readonly opts: GithubClientOptions) {
    this.baseUrl = normalizeBaseUrl(opts.baseUrl);
    this.headers = {
      accept: 'application/vnd.github+json',
      'x-github-api-version': API_VERSION,
      'user-agent': opts.userAgent ?? 'orgloop',
    };
    if (opts.token) this.headers.authorization = `Bearer ${opts.token}`;
  }

  url(path: string, query?: Record<string, string | number | undefined>): string {
    const u = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  async request<T>(
    method: string,
    url: string,
    init: { body?: unknown; etag?: string | null } = {},
  ): Promise<GithubResponse<T>> {
    const headers: Record<string, string> = { ...this.headers };
    if (init.etag) headers['if-none-match'] = init.etag;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const timeoutMs = this.opts.timeoutMs ?? 30_000;
    const signal = this.opts.signal;
    let res: HttpResponse;
    try {
      const body = init.body === undefined ? undefined : JSON.stringify(init.body);
      res = await sendRequest(url, method, headers, body, signal, { agents, timeoutMs });
    } catch (err) {
      const why = err instanceof RequestTimeoutError ? err.message : signal?.aborted ? 'aborted' : requestErrorText(err);
      throw new GithubApiError(0, `GitHub request ${method} ${stripQuery(url)} failed: ${why}`);
    }
    this.requests++;
    const rate = parseRate(res.headers);
    if (rate.remaining !== null) this.rate = rate;
    const dateHeader = headerValue(res.headers, 'date');
    const serverTime = dateHeader ? Date.parse(dateHeader) || null : null;
    const base = {
      status: res.status,
      etag: headerValue(res.headers, 'etag'),
      next: nextLink(headerValue(res.headers, 'link')),
      rate,
      serverTime,
    };
    if (res.status === 304) return { ...base, data: null, notModified: true };
    const text = res.text;
    if (res.status >= 200 && res.status < 300) {
      return { ...base, data: text ? (JSON.parse(text) as T) : null, notModified: false };
    }
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      /* not JSON */
    }
    // Primary limit: remaining 0 -> wait for reset. Secondary limit: Retry-After.
    if (res.status === 403 || res.status === 429) {
      const after = retryAfterMs(res.headers);
      if (after !== null) throw new GithubRateLimitError(Date.now() + after, `secondary limit: ${message}`);
      if (rate.remaining === 0) throw new GithubRateLimitError(rate.resetAt ?? Date.now() + 60_000, message);
      if (res.status === 429) throw new GithubRateLimitError(Date.now() + 60_000, message);
    }
    throw new GithubApiError(res.status, describeError(res.status, method, url, message));
  }

  get<T>(url: string, etag?: string | null): Promise<GithubResponse<T>> {
    return this.request<T>('GET', url, { etag });
  }
}

function stripQuery(url: string): string {
  const u = new URL(url);
  return u.origin + u.pathname;
}

function describeError(status: number, method: string, url: string, message: string): string {
  const where = `${method} ${stripQuery(url)}`;
  switch (status) {
    case 401:
      return `GitHub rejected the token (401 ${message}) on ${where}: check the token's value and expiry`;
    case 403:
      return `GitHub refused ${where} (403 ${message}): the token lacks a permission this needs`;
    case 404:
      return `GitHub returned 404 for ${where}: the repository or object does not exist, or the token cannot see it`;
    case 422:
      return `GitHub rejected ${where} (422 ${message})`;
    default:
      return `GitHub ${where} failed with ${status}: ${message}`;
  }
}

/** Splits `owner/name`, throwing a clear error for anything else. */
export function splitRepo(repo: string): { owner: string; name: string } {
  const m = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(repo);
  if (!m) throw new Error(`invalid repo ${JSON.stringify(repo)}: expected owner/name`);
  return { owner: m[1]!, name: m[2]! };
}

export const REPO_PATTERN = '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$';

/** Token for a GitHub provider: config `token`, else $GITHUB_TOKEN — read at call time so rotation works. */
export function githubToken(config: Record<string, unknown>, env: (name: string) => string | undefined): string | undefined {
  const t = config.token;
  if (typeof t === 'string' && t.trim()) return t.trim();
  return env('GITHUB_TOKEN') || undefined;
}

export function isBot(user: { login?: string; type?: string } | null | undefined): boolean {
  if (!user) return false;
  return user.type === 'Bot' || (typeof user.login === 'string' && user.login.endsWith('[bot]'));
}
