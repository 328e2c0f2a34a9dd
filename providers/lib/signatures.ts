// Webhook signatures: Standard Webhooks (sign + verify), GitHub X-Hub-Signature-256, plain HMAC.
// All comparisons are constant-time on fixed-length digests.

import { createHmac, timingSafeEqual } from 'node:crypto';

/** Standard Webhooks replay window, both directions. */
export const STANDARD_TOLERANCE_SECONDS = 5 * 60;

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function hmacSha256(key: Buffer | string, data: Buffer | string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/**
 * Key bytes of a Standard Webhooks secret: `whsec_<base64>` decodes the base64 part (the
 * standard's format); any other string is used as its UTF-8 bytes.
 */
export function standardSecretKey(secret: string): Buffer {
  if (secret.startsWith('whsec_')) return Buffer.from(secret.slice('whsec_'.length), 'base64');
  return Buffer.from(secret, 'utf8');
}

/** The `webhook-signature` value (`v1,<base64>`) for one message. */
export function signStandard(secret: string, msgId: string, timestampSec: number, body: Buffer | string): string {
  const mac = hmacSha256(standardSecretKey(secret), `${msgId}.${timestampSec}.${Buffer.isBuffer(body) ? body.toString('utf8') : body}`);
  return `v1,${mac.toString('base64')}`;
}

/** Headers a Standard Webhooks sender sets. */
export function standardHeaders(secret: string, msgId: string, body: Buffer | string, now: Date = new Date()): Record<string, string> {
  const ts = Math.floor(now.getTime() / 1000);
  return { 'webhook-id': msgId, 'webhook-timestamp': String(ts), 'webhook-signature': signStandard(secret, msgId, ts, body) };
}

export type VerifyResult = { ok: true } | { ok: false; error: string };

/**
 * Verifies Standard Webhooks headers against any of `secrets` (rotation). The signature header may
 * carry several space-separated `v1,<base64>` entries; one match suffices.
 */
export function verifyStandard(
  secrets: string[],
  headers: { id?: string; timestamp?: string; signature?: string },
  body: Buffer,
  now: Date = new Date(),
  toleranceSec: number = STANDARD_TOLERANCE_SECONDS,
): VerifyResult {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) {
    const missing = [!id && 'webhook-id', !timestamp && 'webhook-timestamp', !signature && 'webhook-signature'].filter(Boolean);
    return { ok: false, error: `missing Standard Webhooks header(s): ${missing.join(', ')}` };
  }
  if (!/^\d+$/.test(timestamp)) return { ok: false, error: 'invalid webhook-timestamp' };
  const ts = Number(timestamp);
  const nowSec = Math.floor(now.getTime() / 1000);
  if (Math.abs(nowSec - ts) > toleranceSec) {
    return { ok: false, error: `webhook-timestamp outside the ${toleranceSec}s replay window` };
  }
  const provided: Buffer[] = [];
  for (const part of signature.split(' ')) {
    const comma = part.indexOf(',');
    if (comma < 0 || part.slice(0, comma) !== 'v1') continue;
    provided.push(Buffer.from(part.slice(comma + 1), 'base64'));
  }
  if (provided.length === 0) return { ok: false, error: 'webhook-signature has no v1 signature' };
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), body]);
  for (const secret of secrets) {
    const expected = hmacSha256(standardSecretKey(secret), signed);
    for (const p of provided) if (safeEqual(expected, p)) return { ok: true };
  }
  return { ok: false, error: 'webhook-signature does not match' };
}

/** `sha256=<hex>` as GitHub sends in X-Hub-Signature-256. */
export function signGithub(secret: string, body: Buffer | string): string {
  return `sha256=${hmacSha256(secret, body).toString('hex')}`;
}

/** Verifies GitHub's X-Hub-Signature-256 against any of `secrets`. */
export function verifyGithub(secrets: string[], header: string | undefined, body: Buffer): VerifyResult {
  if (!header) return { ok: false, error: 'missing X-Hub-Signature-256 header' };
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!m) return { ok: false, error: 'malformed X-Hub-Signature-256 header (expected sha256=<hex>)' };
  const provided = Buffer.from(m[1]!, 'hex');
  for (const secret of secrets) if (safeEqual(hmacSha256(secret, body), provided)) return { ok: true };
  return { ok: false, error: 'X-Hub-Signature-256 does not match' };
}

/** Decodes a plain HMAC header value: `sha256=<hex>`, `<hex>` or `<base64>`. */
function decodePlainSignature(value: string): Buffer | null {
  let v = value.trim();
  if (v.toLowerCase().startsWith('sha256=')) v = v.slice(7);
  if (/^[0-9a-fA-F]{64}$/.test(v)) return Buffer.from(v, 'hex');
  if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(v)) {
    const b = Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return b.length === 32 ? b : null;
  }
  return null;
}

/** Verifies a plain HMAC-SHA256 of the raw body (hex, `sha256=hex` or base64) against any of `secrets`. */
export function verifyHmac(secrets: string[], header: string | undefined, body: Buffer, headerName = 'x-signature'): VerifyResult {
  if (!header) return { ok: false, error: `missing ${headerName} header` };
  const provided = decodePlainSignature(header);
  if (!provided) return { ok: false, error: `malformed ${headerName} header (expected hex, sha256=<hex> or base64 HMAC-SHA256)` };
  for (const secret of secrets) if (safeEqual(hmacSha256(secret, body), provided)) return { ok: true };
  return { ok: false, error: `${headerName} does not match` };
}
