// Zendesk Support: authentication (API token as `email/token`, or an OAuth access token as
// Bearer), the cursor-based incremental ticket export, and webhook signatures.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { baseUrl, vendorJson } from './vendor-http.js';

export function zendeskBase(config: Record<string, unknown>): string {
  const sub = typeof config.subdomain === 'string' ? config.subdomain.trim() : '';
  return baseUrl(config.base_url, `https://${sub}.zendesk.com`);
}

/** `email/token:<api token>` as Basic when an email is configured, else the token as an OAuth Bearer token. */
export function zendeskAuthorization(config: Record<string, unknown>): string {
  const token = String(config.token ?? '');
  const email = typeof config.email === 'string' ? config.email.trim() : '';
  return email ? `Basic ${Buffer.from(`${email}/token:${token}`).toString('base64')}` : `Bearer ${token}`;
}

export interface ExportPage {
  tickets: any[];
  after_cursor: string | null;
  end_of_stream: boolean;
}

export async function ticketExportPage(config: Record<string, unknown>, from: { cursor: string } | { start_time: number }, signal?: AbortSignal): Promise<ExportPage> {
  const u = new URL(`${zendeskBase(config)}/api/v2/incremental/tickets/cursor.json`);
  if ('cursor' in from) u.searchParams.set('cursor', from.cursor);
  else u.searchParams.set('start_time', String(from.start_time));
  if (typeof config.per_page === 'number') u.searchParams.set('per_page', String(config.per_page));
  const res = await vendorJson<ExportPage>('Zendesk', 'incremental ticket export', u.toString(), { headers: { authorization: zendeskAuthorization(config) }, signal });
  return { tickets: Array.isArray(res.data?.tickets) ? res.data.tickets : [], after_cursor: res.data?.after_cursor ?? null, end_of_stream: res.data?.end_of_stream !== false };
}

/**
 * Zendesk webhook signature: `X-Zendesk-Webhook-Signature` = base64 HMAC-SHA256 over
 * `<X-Zendesk-Webhook-Signature-Timestamp><raw body>` with the webhook's signing secret.
 */
export function signZendesk(secret: string, timestamp: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(timestamp).update(body).digest('base64');
}

export function verifyZendesk(secrets: string[], signature: string | undefined, timestamp: string | undefined, body: Buffer): boolean {
  if (!signature || !timestamp) return false;
  const given = Buffer.from(signature, 'base64');
  return secrets.some((s) => {
    const mac = Buffer.from(signZendesk(s, timestamp, body), 'base64');
    return mac.length === given.length && timingSafeEqual(mac, given);
  });
}
