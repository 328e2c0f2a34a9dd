// A small Linear GraphQL client: API-key auth, GraphQL error shapes, rate-limit headers.

import { fetchErrorText } from './fetch-error.js';

export const DEFAULT_LINEAR_API = 'https://api.linear.app';

export class LinearRateLimitError extends Error {
  constructor(readonly retryAt: number) {
    super(`Linear rate limit exceeded; retrying after ${new Date(retryAt).toISOString()}`);
    this.name = 'LinearRateLimitError';
  }
}

export class LinearApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'LinearApiError';
  }
}

/** `base_url` is the API origin; the GraphQL endpoint is `<base_url>/graphql` unless given in full. */
export function linearEndpoint(baseUrl: unknown): string {
  const b = (typeof baseUrl === 'string' && baseUrl.trim() ? baseUrl.trim() : DEFAULT_LINEAR_API).replace(/\/+$/, '');
  return b.endsWith('/graphql') ? b : `${b}/graphql`;
}

/** Linear personal API keys go in Authorization as-is; OAuth tokens as `Bearer <token>`. */
export function linearAuthorization(key: string): string {
  return /^bearer\s/i.test(key) || !key.startsWith('lin_oauth_') ? key : `Bearer ${key}`;
}

export function linearApiKey(config: Record<string, unknown>, env: (n: string) => string | undefined): string | undefined {
  const k = config.api_key;
  if (typeof k === 'string' && k.trim()) return k.trim();
  return env('LINEAR_API_KEY') || undefined;
}

interface GqlError {
  message?: string;
  extensions?: { code?: string; type?: string; userPresentableMessage?: string };
}

export class LinearClient {
  requests = 0;
  remaining: number | null = null;

  constructor(
    private readonly opts: { baseUrl?: unknown; apiKey?: string; signal?: AbortSignal; timeoutMs?: number },
  ) {}

  async query<T>(operationName: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
    if (!this.opts.apiKey) throw new LinearApiError(0, 'no Linear API key: set config.api_key (e.g. "${LINEAR_API_KEY}")');
    const url = linearEndpoint(this.opts.baseUrl);
    const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? 30_000);
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: linearAuthorization(this.opts.apiKey), 'user-agent': 'orgloop' },
        body: JSON.stringify({ operationName, query, variables }),
        signal: this.opts.signal ? AbortSignal.any([this.opts.signal, timeout]) : timeout,
      });
    } catch (err) {
      throw new LinearApiError(0, `Linear request to ${url} failed: ${fetchErrorText(err)}`);
    }
    this.requests++;
    const rem = res.headers.get('x-ratelimit-requests-remaining');
    if (rem !== null && /^\d+$/.test(rem)) this.remaining = Number(rem);
    const resetHeader = res.headers.get('x-ratelimit-requests-reset');
    const resetAt = resetHeader && /^\d+$/.test(resetHeader) ? Number(resetHeader) : null;
    const text = await res.text();
    let body: { data?: T; errors?: GqlError[] } = {};
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      throw new LinearApiError(res.status, `Linear answered ${res.status} with a non-JSON body: ${text.slice(0, 200)}`);
    }
    const errors = body.errors ?? [];
    const codes = errors.map((e) => e.extensions?.code ?? e.extensions?.type ?? '');
    if (res.status === 429 || codes.includes('RATELIMITED')) {
      // Reset header is epoch ms; Retry-After seconds is the fallback.
      const ra = res.headers.get('retry-after');
      throw new LinearRateLimitError(resetAt ?? (ra && /^\d+$/.test(ra) ? Date.now() + Number(ra) * 1000 : Date.now() + 60_000));
    }
    if (errors.length > 0 || res.status >= 400) {
      const msg = errors.map((e) => e.extensions?.userPresentableMessage ?? e.message).filter(Boolean).join('; ') || text.slice(0, 200);
      if (res.status === 401 || codes.includes('AUTHENTICATION_ERROR')) {
        throw new LinearApiError(401, `Linear rejected the API key (${msg}): check api_key`);
      }
      if (codes.includes('FORBIDDEN')) throw new LinearApiError(403, `Linear refused ${operationName} (${msg})`);
      throw new LinearApiError(res.status, `Linear ${operationName} failed (${res.status}): ${msg}`);
    }
    if (!body.data) throw new LinearApiError(res.status, `Linear ${operationName} returned no data`);
    return body.data;
  }
}
