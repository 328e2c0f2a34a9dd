// Which request is "the same delivery again" (DESIGN §6, identity and freshness of webhooks).
// Only signed material may decide it where the scheme signs it: a Standard Webhooks `webhook-id`
// is inside the signature, so it is the identity. GitHub and plain HMAC sign the body alone: their
// delivery ids are unsigned headers anyone replaying a captured request can change or drop, so
// the identity is the signed body's digest, and a replay of the same body is a duplicate for as
// long as the store keeps dedupe keys (at least the 72 h redelivery horizon) whatever the headers
// say. Unsigned requests can only be told apart by what the transport says (delivery id headers);
// a body field is an identity only when the source config names it.

import { createHash } from 'node:crypto';
import { getPath } from './path.js';

/** Headers senders use for a delivery id, most specific first. */
export const TRANSPORT_ID_HEADERS = ['x-github-delivery', 'webhook-id', 'idempotency-key'] as const;

/** `sha256:<hex>` of the raw body: the identity of a request whose body alone is signed. */
export function bodyDigestKey(rawBody: Buffer): string {
  return `sha256:${createHash('sha256').update(rawBody).digest('hex')}`;
}

/** The first delivery id header present (unsigned requests only). */
export function transportKey(headers: Record<string, string | undefined>, names: readonly string[] = TRANSPORT_ID_HEADERS): string | undefined {
  for (const n of names) {
    const v = headers[n]?.trim();
    if (v) return v;
  }
  return undefined;
}

/** The value of a configured body field (`dedupe_field: id`, dotted paths allowed) as a key. */
export function bodyFieldKey(body: unknown, field: string): string | undefined {
  const v = getPath(body, field);
  if ((typeof v === 'string' && v !== '') || (typeof v === 'number' && Number.isFinite(v))) return `field:${field}=${String(v)}`;
  return undefined;
}

/** How a request proved itself, which decides what may identify it. */
export type Proof = { kind: 'signed-id'; id: string } | { kind: 'signed-body' } | { kind: 'unsigned' };

/** The dedupe key of a verified (or unsigned) request. */
export function requestIdentity(proof: Proof, req: { headers: Record<string, string | undefined>; rawBody: Buffer }): string | undefined {
  if (proof.kind === 'signed-id') return proof.id;
  if (proof.kind === 'signed-body') return bodyDigestKey(req.rawBody);
  return transportKey(req.headers);
}
