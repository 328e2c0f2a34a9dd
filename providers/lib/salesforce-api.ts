// Salesforce REST API: SOQL queries (`GET /services/data/<version>/query?q=`, following
// `nextRecordsUrl`), Bearer access tokens and their OAuth 2.0 refresh-token flow.
//
// An expired or revoked session answers 401 `INVALID_SESSION_ID`; with a refresh token (and the
// connected app's client id/secret) the client asks `<login_url>/services/oauth2/token` for a new
// access token once and repeats the request. The refreshed token lives only in this process's
// memory — never in state or cursors. The org's API request limit answers 403
// `REQUEST_LIMIT_EXCEEDED`: treated as a rate limit (an hour, unless Retry-After says otherwise).

import { RateLimitedError, VendorApiError, baseUrl, vendorJson } from './vendor-http.js';

export const DEFAULT_LOGIN_URL = 'https://login.salesforce.com';
export const DEFAULT_API_VERSION = 'v59.0';
export const SOQL_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Tokens obtained by refresh, per (instance, refresh token) within this process. */
const refreshed = new Map<string, { token: string; instance: string }>();

export interface SalesforceConfig {
  instance_url?: string;
  token?: string;
  refresh_token?: string;
  client_id?: string;
  client_secret?: string;
  login_url?: string;
  api_version?: string;
}

export class SalesforceClient {
  requests = 0;
  constructor(
    private readonly config: SalesforceConfig,
    private readonly signal?: AbortSignal,
  ) {}

  private key(): string {
    return `${this.config.instance_url}|${this.config.refresh_token ?? ''}|${this.config.client_id ?? ''}`;
  }

  private current(): { token: string; instance: string } {
    return refreshed.get(this.key()) ?? { token: String(this.config.token ?? ''), instance: baseUrl(this.config.instance_url, '') };
  }

  canRefresh(): boolean {
    return !!(this.config.refresh_token && this.config.client_id);
  }

  /** The OAuth refresh-token grant; keeps the new access token (and instance URL) in memory. */
  async refresh(): Promise<void> {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: String(this.config.refresh_token), client_id: String(this.config.client_id) });
    if (this.config.client_secret) form.set('client_secret', this.config.client_secret);
    const res = await vendorJson<{ access_token?: string; instance_url?: string }>('Salesforce', 'OAuth token refresh', `${baseUrl(this.config.login_url, DEFAULT_LOGIN_URL)}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      signal: this.signal,
    });
    if (!res.data.access_token) throw new VendorApiError('Salesforce', res.status, 'Salesforce OAuth token refresh returned no access_token', false);
    refreshed.set(this.key(), { token: res.data.access_token, instance: baseUrl(res.data.instance_url, this.current().instance) });
  }

  async get<T>(what: string, pathOrUrl: string): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const { token, instance } = this.current();
      if (!token && this.canRefresh() && attempt === 0) {
        await this.refresh();
        continue;
      }
      this.requests++;
      try {
        const res = await vendorJson<T>('Salesforce', what, pathOrUrl.startsWith('/') ? instance + pathOrUrl : pathOrUrl, { headers: { authorization: `Bearer ${token}` }, signal: this.signal, defaultBackoffMs: 60_000 });
        return res.data;
      } catch (err) {
        const code = err instanceof VendorApiError && Array.isArray(err.body) ? (err.body[0] as { errorCode?: string })?.errorCode : undefined;
        if (err instanceof VendorApiError && err.status === 401 && attempt === 0 && this.canRefresh()) {
          await this.refresh();
          continue;
        }
        if (code === 'REQUEST_LIMIT_EXCEEDED') throw new RateLimitedError('Salesforce', Date.now() + 3600_000);
        throw err;
      }
    }
  }

  /** Every record of a SOQL query, following nextRecordsUrl up to `maxPages`. */
  async query(soql: string, maxPages: number): Promise<{ records: any[]; complete: boolean }> {
    const version = this.config.api_version ?? DEFAULT_API_VERSION;
    let page = await this.get<{ records: any[]; done: boolean; nextRecordsUrl?: string }>('SOQL query', `/services/data/${version}/query?q=${encodeURIComponent(soql)}`);
    const records = [...(page.records ?? [])];
    for (let n = 1; !page.done && page.nextRecordsUrl; n++) {
      if (n >= maxPages) return { records, complete: false };
      page = await this.get('SOQL query (next page)', page.nextRecordsUrl);
      records.push(...(page.records ?? []));
    }
    return { records, complete: true };
  }
}

/** Salesforce datetimes in SOQL are unquoted ISO-8601 with a zone. */
export function soqlDateTime(iso: string): string {
  return new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
