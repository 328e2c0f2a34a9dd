// Who may use the console (DESIGN §10, trust model). Reading is open to whoever reaches the
// address (loopback by default); every action needs the bearer token. Against DNS rebinding the
// Host must be an allowed name; against cross-site requests a browser's Origin must be the
// console's own, and actions are JSON only (a form cannot send application/json).
// Kept small on purpose: the reusable guard from the security work replaces it when it lands.

import { timingSafeEqual, createHash } from 'node:crypto';
import type http from 'node:http';

export interface GuardOptions {
  /** bearer token for actions; null: the console is read-only */
  token: string | null;
  /** host names allowed besides loopback ones (e.g. the name of the machine it is bound to) */
  hosts?: string[];
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** The host name of a Host header without its port. */
export function hostName(host: string | undefined): string | null {
  if (!host) return null;
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end === -1 ? null : h.slice(0, end + 1);
  }
  const colon = h.indexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export type Refusal = { status: number; error: string };

export class Guard {
  private readonly hosts: Set<string>;
  private readonly token: Buffer | null;

  constructor(o: GuardOptions) {
    this.hosts = new Set([...LOOPBACK, ...(o.hosts ?? []).map((h) => h.toLowerCase())]);
    this.token = o.token ? digest(o.token) : null;
  }

  get readOnly(): boolean {
    return this.token === null;
  }

  /** Any request: the Host is allowed, and a browser's Origin, when sent, is this same host. */
  request(req: http.IncomingMessage): Refusal | null {
    const host = hostName(req.headers.host);
    if (!host || !this.hosts.has(host)) return { status: 421, error: 'this host name is not allowed for the console' };
    const origin = req.headers.origin;
    if (origin !== undefined) {
      let o: URL;
      try {
        o = new URL(origin);
      } catch {
        return { status: 403, error: 'cross-origin requests are refused' };
      }
      if (o.host.toLowerCase() !== String(req.headers.host).toLowerCase()) return { status: 403, error: 'cross-origin requests are refused' };
    }
    return null;
  }

  /** Does the request carry the right bearer token? (compared in constant time) */
  authorized(req: http.IncomingMessage): boolean {
    if (!this.token) return false;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    return m !== null && timingSafeEqual(digest(m[1]!), this.token);
  }

  /** An action (POST): JSON body and the bearer token. */
  action(req: http.IncomingMessage): Refusal | null {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') return { status: 415, error: 'actions take application/json' };
    if (!this.token) return { status: 403, error: 'the console is read-only: start it with a token (orgloop console --token, or ORGLOOP_CONSOLE_TOKEN for the executor)' };
    if (!this.authorized(req)) return { status: 401, error: 'this action needs the console token (Authorization: Bearer ...)' };
    return null;
  }
}
