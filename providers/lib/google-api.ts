// Google APIs (Gmail, Calendar) over plain HTTPS: access tokens from an OAuth 2.0 refresh token or
// a service account key (a JWT signed RS256 with node:crypto and exchanged at the token endpoint,
// RFC 7523), requests with Bearer tokens, and Google's error shapes.
//
// Access tokens live only in this process's memory (per credentials and scope), are renewed a
// minute before they expire, and once more when an API answers 401. Rate limits come as 429, or
// as 403 with reason rateLimitExceeded / userRateLimitExceeded (dailyLimitExceeded and
// quotaExceeded for the day's quota): all of them throw RateLimitedError, whose wait grows
// exponentially with the number of limited polls in a row (Google's advice: 1, 2, 4... s with
// jitter, capped at 64 s) unless the answer says Retry-After. Sources keep that count and the
// wait in their cursor, so a restarted executor backs off too.

import { createHash, createSign } from 'node:crypto';
import { RateLimitedError, VendorApiError, baseUrl, vendorJson } from './vendor-http.js';

export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const EARLY_RENEW_MS = 60_000;
const MAX_BACKOFF_MS = 64_000;

export interface GoogleAuthConfig {
  client_id?: string;
  client_secret?: string;
  refresh_token?: string;
  /** the service account key file's JSON text */
  service_account_key?: string;
  /** the user a service account acts for (domain-wide delegation) */
  subject?: string;
  token_url?: string;
}

interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
}

/** JSON Schema properties every Google source shares (credentials and the token endpoint). */
export const GOOGLE_AUTH_PROPERTIES = {
  client_id: { type: 'string', description: 'OAuth client id (with client_secret and refresh_token)' },
  client_secret: { type: 'string', sensitive: true, description: 'OAuth client secret' },
  refresh_token: { type: 'string', sensitive: true, description: 'OAuth refresh token of the user (write "${GOOGLE_REFRESH_TOKEN}")' },
  service_account_key: { type: 'string', sensitive: true, description: 'a service account key file\'s JSON (write "${GOOGLE_SERVICE_ACCOUNT_KEY}")' },
  subject: { type: 'string', description: 'the Workspace user a service account acts for (domain-wide delegation)' },
  token_url: { type: 'string', description: `token endpoint (default ${GOOGLE_TOKEN_URL})` },
} as const;

export const GOOGLE_SENSITIVE = ['client_secret', 'refresh_token', 'service_account_key'];

/** Config checks shared by the Google sources: one way to authenticate, complete. */
export function googleAuthIssues(config: Record<string, unknown>): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  const sa = config.service_account_key;
  if (sa !== undefined && sa !== '') {
    if (config.refresh_token) issues.push({ path: 'refresh_token', message: 'set refresh_token (with client_id, client_secret) or service_account_key, not both' });
    // a value from ${VAR} is checked when it is known; a template left as is (validate without secrets) is not
    if (typeof sa === 'string' && !sa.includes('${') && parseKey(sa) === undefined) issues.push({ path: 'service_account_key', message: 'not a service account key: expected the key file\'s JSON with client_email and private_key' });
    return issues;
  }
  if (!config.refresh_token) issues.push({ path: 'refresh_token', message: 'set refresh_token with client_id and client_secret (a user\'s OAuth grant), or service_account_key' });
  else if (!config.client_id) issues.push({ path: 'client_id', message: 'a refresh_token needs the OAuth client_id and client_secret it was issued to' });
  else if (!config.client_secret) issues.push({ path: 'client_secret', message: 'a refresh_token needs the OAuth client_id and client_secret it was issued to' });
  return issues;
}

function parseKey(text: string): ServiceAccountKey | undefined {
  try {
    const k = JSON.parse(text) as ServiceAccountKey;
    return typeof k?.client_email === 'string' && typeof k.private_key === 'string' ? k : undefined;
  } catch {
    return undefined;
  }
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** A signed JWT asking for `scope` (RFC 7523 §2.1), valid for an hour. */
export function serviceAccountAssertion(key: ServiceAccountKey, scope: string, audience: string, subject?: string, now = Date.now()): string {
  const iat = Math.floor(now / 1000);
  const header = { alg: 'RS256', typ: 'JWT', ...(key.private_key_id ? { kid: key.private_key_id } : {}) };
  const claims = { iss: key.client_email, scope, aud: audience, iat, exp: iat + 3600, ...(subject ? { sub: subject } : {}) };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256').update(input).sign(key.private_key);
  return `${input}.${b64url(signature)}`;
}

/** Access tokens per (credentials, scope), this process only. */
const tokens = new Map<string, { token: string; expiresAt: number }>();

export class GoogleClient {
  requests = 0;
  private readonly key: string;
  constructor(
    private readonly config: GoogleAuthConfig,
    private readonly scope: string,
    private readonly signal?: AbortSignal,
  ) {
    // a digest, so the cache is not keyed by the secrets themselves
    this.key = createHash('sha256')
      .update(JSON.stringify([config.token_url, config.client_id, config.refresh_token, config.service_account_key, config.subject, scope]))
      .digest('hex');
  }

  /** The token endpoint: config, else the service account key's token_uri, else Google's. */
  private tokenUrl(sa?: ServiceAccountKey): string {
    return baseUrl(this.config.token_url, sa?.token_uri ?? GOOGLE_TOKEN_URL);
  }

  private async exchange(): Promise<{ token: string; expiresAt: number }> {
    const form = new URLSearchParams();
    let url: string;
    if (this.config.service_account_key) {
      const sa = parseKey(this.config.service_account_key);
      if (!sa) throw new VendorApiError('Google', 0, 'Google service_account_key is not a service account key file (client_email and private_key)', false);
      url = this.tokenUrl(sa);
      form.set('grant_type', 'urn:ietf:params:oauth:grant-type:jwt-bearer');
      let assertion: string;
      try {
        assertion = serviceAccountAssertion(sa, this.scope, url, this.config.subject);
      } catch {
        throw new VendorApiError('Google', 0, 'Google service_account_key: its private_key cannot sign (not an RSA key in PEM form)', false);
      }
      form.set('assertion', assertion);
    } else {
      url = this.tokenUrl();
      form.set('grant_type', 'refresh_token');
      form.set('refresh_token', String(this.config.refresh_token ?? ''));
      form.set('client_id', String(this.config.client_id ?? ''));
      form.set('client_secret', String(this.config.client_secret ?? ''));
    }
    const res = await vendorJson<{ access_token?: string; expires_in?: number }>('Google', 'token exchange', url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      signal: this.signal,
    });
    if (!res.data.access_token) throw new VendorApiError('Google', res.status, 'Google token exchange returned no access_token', false);
    const ttl = typeof res.data.expires_in === 'number' ? res.data.expires_in * 1000 : 3600_000;
    return { token: res.data.access_token, expiresAt: Date.now() + ttl };
  }

  private async accessToken(renew = false): Promise<string> {
    const cached = tokens.get(this.key);
    if (!renew && cached && cached.expiresAt - EARLY_RENEW_MS > Date.now()) return cached.token;
    const fresh = await this.exchange();
    tokens.set(this.key, fresh);
    return fresh.token;
  }

  /**
   * GET a Google API URL as JSON. 401 renews the token once; rate limits throw RateLimitedError
   * (wait from Retry-After, else `backoffMs`); other failures throw VendorApiError with the status.
   */
  async get<T>(what: string, url: string, backoffMs = 1000): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.accessToken(attempt > 0);
      this.requests++;
      try {
        return (await vendorJson<T>('Google', what, url, { headers: { authorization: `Bearer ${token}` }, signal: this.signal, defaultBackoffMs: backoffMs })).data;
      } catch (err) {
        if (err instanceof VendorApiError && err.status === 401 && attempt === 0) continue;
        if (err instanceof VendorApiError && err.status === 403) {
          const r = googleReason(err.body);
          if (r === 'rateLimitExceeded' || r === 'userRateLimitExceeded') throw new RateLimitedError('Google', Date.now() + backoffMs);
          if (r === 'dailyLimitExceeded' || r === 'quotaExceeded') throw new RateLimitedError('Google', Date.now() + 3600_000);
        }
        throw err;
      }
    }
  }
}

/** `error.errors[0].reason` of a Google error body (rateLimitExceeded, notFound...). */
export function googleReason(body: unknown): string | undefined {
  const errors = (body as { error?: { errors?: Array<{ reason?: string }> } })?.error?.errors;
  return Array.isArray(errors) ? errors[0]?.reason : undefined;
}

/** Exponential backoff for the n-th limited poll in a row (1-based): 2^(n-1) s plus up to 1 s of jitter, at most 64 s. */
export function backoffMs(n: number, random = Math.random): number {
  return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.max(0, Math.min(n - 1, 6)) + Math.floor(random() * 1000));
}

/** Drops cached tokens (tests that rotate credentials within one process). */
export function forgetGoogleTokens(): void {
  tokens.clear();
}
