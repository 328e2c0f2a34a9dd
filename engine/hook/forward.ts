// Forwarding a hook's payload to a running executor's ingress (POST /webhook/<source-id>), the
// way an agent's hook command must: bounded by a deadline (the agent waits for us), one
// Idempotency-Key per invocation reused on every retry (the executor stores the event once; a
// spooled request keeps its key, so a late resend is still one event), signed like a GitHub
// webhook when the source has a secret, and retried only when a retry can help (no answer, 5xx,
// 429). It never throws: the caller decides how loudly to fail, and `retryable` says whether
// sending the same request later could succeed (worth spooling).

import { createHmac, randomUUID } from 'node:crypto';

export interface ForwardOptions {
  /** the executor's base URL, e.g. http://127.0.0.1:4800 */
  baseUrl: string;
  /** id of the source that receives it */
  source: string;
  /** a full target URL instead of <baseUrl>/webhook/<source> (an agent's callback) */
  url?: string;
  /** more headers (the callback token) */
  headers?: Record<string, string>;
  /** the JSON body, sent as is (and signed as is) */
  body: string;
  /** the source's secret: adds X-Hub-Signature-256 */
  secret?: string;
  timeoutMs: number;
  attempts?: number;
  userAgent?: string;
  /** the request's Idempotency-Key (default: a new one); a spooled request is resent with its own */
  idempotencyKey?: string;
}

export type ForwardResult = { ok: true } | { ok: false; error: string; retryable: boolean };

/** X-Hub-Signature-256 of a body, as the session sources verify it. */
export function hookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export async function forwardToIngress(o: ForwardOptions): Promise<ForwardResult> {
  const base = o.baseUrl.replace(/\/+$/, '');
  const target = o.url ?? `${base}/webhook/${encodeURIComponent(o.source)}`;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': o.idempotencyKey ?? randomUUID(), 'user-agent': o.userAgent ?? 'orgloop-hook', ...o.headers };
  if (o.secret) headers['x-hub-signature-256'] = hookSignature(o.secret, o.body);

  const deadline = Date.now() + o.timeoutMs;
  const attempts = o.attempts ?? 3;
  let lastError = '';
  let retryable = true;
  for (let attempt = 1; attempt <= attempts && Date.now() < deadline; attempt++) {
    try {
      const res = await fetch(target, { method: 'POST', headers, body: o.body, signal: AbortSignal.timeout(Math.max(100, deadline - Date.now())) });
      const text = await res.text().catch(() => '');
      if (res.ok) return { ok: true };
      lastError = `${target} answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
      if (res.status < 500 && res.status !== 429) {
        retryable = false; // the request itself is wrong; retrying will not help
        break;
      }
    } catch (err) {
      const c = (err as { cause?: { code?: string; message?: string } }).cause;
      const cause = c?.code ?? c?.message;
      lastError = `executor not reachable at ${base}${cause ? ` (${cause})` : ''}; is \`orgloop start\` running?`;
    }
    if (attempt < attempts) await new Promise((r) => setTimeout(r, Math.min(200 * attempt, Math.max(0, deadline - Date.now()))));
  }
  return { ok: false, error: lastError || 'timed out', retryable };
}
