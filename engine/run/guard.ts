// Who may change state through the executor's HTTP port, and how they prove it (DESIGN §6, trust
// model). Webhook sources are public and answer to their own signature scheme. Every other
// state-changing endpoint (agent callbacks; console actions and control endpoints reuse this
// module) must pass `checkStateChange`: a JSON body, no browser `Origin` (CSRF), a `Host` that is
// an allowed name (DNS rebinding), and its own proof: for a callback, the per-delivery token that
// orgloop sent with that delivery.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { hostname } from 'node:os';
import { isIP } from 'node:net';

/** A request as far as the guard looks at it: lower-cased header names. */
export interface GuardedRequest {
  method?: string;
  headers: Record<string, string | string[] | undefined>;
}

export type GuardResult = { ok: true } | { ok: false; status: number; error: string };

const LOOPBACK_NAMES = new Set(['localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback']);

/** The name part of a Host header (no port, no IPv6 brackets), lower-cased; null when malformed. */
export function hostName(header: string): string | null {
  const h = header.trim().toLowerCase();
  if (!h) return null;
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end < 0) return null;
    const rest = h.slice(end + 1);
    if (rest && !/^:\d{1,5}$/.test(rest)) return null;
    return h.slice(1, end);
  }
  const m = /^([a-z0-9._-]+)(?::(\d{1,5}))?$/.exec(h);
  return m ? m[1]!.replace(/\.$/, '') : null;
}

/**
 * The names a `Host` header may carry. An IP literal is always fine: DNS rebinding needs a name
 * the attacker controls, and a literal address names no one's domain. Names must be loopback
 * names, this machine's host name, or the host of a configured public URL.
 */
export class AllowedHosts {
  private readonly names = new Set<string>(LOOPBACK_NAMES);

  constructor(extra: Iterable<string> = []) {
    this.names.add(hostname().toLowerCase());
    for (const e of extra) this.add(e);
  }

  /** Adds a name, or the host of a URL. */
  add(nameOrUrl: string): void {
    let name = nameOrUrl.trim().toLowerCase();
    if (!name) return;
    if (/^[a-z][a-z0-9+.-]*:\/\//.test(name)) {
      try {
        name = new URL(name).hostname;
      } catch {
        return;
      }
    }
    const h = hostName(name);
    if (h) this.names.add(h);
  }

  allows(header: string | undefined): boolean {
    if (header === undefined) return false;
    const name = hostName(header);
    if (name === null) return false;
    if (isIP(name) !== 0) return true;
    return this.names.has(name) || name.endsWith('.localhost');
  }

  /** A Host naming this machine's loopback (localhost, 127.x, ::1). */
  isLocalName(header: string | undefined): boolean {
    const name = header === undefined ? null : hostName(header);
    if (name === null) return false;
    return LOOPBACK_NAMES.has(name) || name.endsWith('.localhost') || isLoopbackBind(name);
  }

  list(): string[] {
    return [...this.names].sort();
  }
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** True for application/json and any `+json` type. */
export function isJsonContentType(ct: string | undefined): boolean {
  if (!ct) return false;
  const base = ct.split(';', 1)[0]!.trim().toLowerCase();
  return base === 'application/json' || base.endsWith('+json');
}

/**
 * A browser sent this request on behalf of a web page: `Origin` (every cross-origin request and
 * every same-origin POST carries it) or `Sec-Fetch-Site` other than `none` (typed in the bar).
 * Servers, agents and curl send neither.
 */
export function fromBrowser(req: GuardedRequest): string | null {
  const origin = one(req.headers.origin);
  if (origin !== undefined) return `Origin ${JSON.stringify(origin)}`;
  const site = one(req.headers['sec-fetch-site']);
  if (site !== undefined && site !== 'none') return `Sec-Fetch-Site ${JSON.stringify(site)}`;
  return null;
}

/** Host, Origin and content-type checks shared by every state-changing endpoint but webhooks. */
export function checkStateChange(req: GuardedRequest, hosts: AllowedHosts): GuardResult {
  const host = one(req.headers.host);
  if (!hosts.allows(host)) {
    return { ok: false, status: 421, error: `Host ${JSON.stringify(host ?? '')} is not an allowed name for this executor (use 127.0.0.1, localhost, or a configured public URL)` };
  }
  const browser = fromBrowser(req);
  if (browser) return { ok: false, status: 403, error: `requests from web pages are refused (${browser})` };
  if (!isJsonContentType(one(req.headers['content-type']))) {
    return { ok: false, status: 415, error: 'send the body as JSON with content-type: application/json' };
  }
  return { ok: true };
}

/** The bearer token of a request: `Authorization: Bearer <t>`, else `X-Orgloop-Token`. */
export function bearerToken(req: GuardedRequest): string | undefined {
  const auth = one(req.headers.authorization);
  const m = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
  return m ? m[1] : one(req.headers['x-orgloop-token'])?.trim() || undefined;
}

const TOKEN_PREFIX = 'olcb_';

/**
 * Per-delivery callback tokens: HMAC-SHA256 over (actor, delivery id) under a key that is kept
 * outside the store. A copy of the store (or of any log) therefore cannot mint a token, and a
 * token proves one delivery of one actor only. Nothing is stored: the token is recomputed on
 * the callback, so executors sharing the key accept each other's tokens.
 */
export class CallbackTokens {
  private readonly key: Buffer;

  constructor(rootKey: Buffer) {
    if (rootKey.length < 16) throw new Error('callback token key is too short');
    // a key of its own, so the root key's other uses never share a MAC with callbacks
    this.key = createHmac('sha256', rootKey).update('orgloop callback token v1').digest();
  }

  token(actor: string, deliveryId: string): string {
    return TOKEN_PREFIX + this.mac(actor, deliveryId).toString('base64url');
  }

  verify(token: string | undefined, actor: string, deliveryId: string): boolean {
    if (!token || !token.startsWith(TOKEN_PREFIX)) return false;
    const given = Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url');
    const expected = this.mac(actor, deliveryId);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private mac(actor: string, deliveryId: string): Buffer {
    return createHmac('sha256', this.key).update(actor).update('\0').update(deliveryId).digest();
  }
}

/** True when `host` (as given to --host) only listens on this machine. */
export function isLoopbackBind(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}
