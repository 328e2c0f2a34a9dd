// Who may use the console (DESIGN §10, trust model). Reading is open to whoever reaches the
// address (loopback by default); every action needs the bearer token. Against DNS rebinding the
// Host must be an allowed name; against cross-site requests a browser's Origin must be the
// console's own, and actions are JSON only (a form cannot send application/json).
// The Host rule is the executor's (engine/run/guard.ts: loopback names, this machine, IP
// literals, configured public URLs and --allowed-host); unlike callbacks, the console's own page
// posts its actions, so a browser Origin is accepted when it is this very host.

import { timingSafeEqual, createHash } from 'node:crypto';
import type http from 'node:http';
import { AllowedHosts } from '../run/guard.js';

export interface GuardOptions {
  /** bearer token for actions; null: the console is read-only */
  token: string | null;
  /** the Host names allowed: the executor's (current) set, or names added to the default one */
  hosts?: (() => AllowedHosts) | string[];
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export type Refusal = { status: number; error: string };

export class Guard {
  private readonly hosts: () => AllowedHosts;
  private readonly token: Buffer | null;

  constructor(o: GuardOptions) {
    if (typeof o.hosts === 'function') this.hosts = o.hosts;
    else {
      const fixed = new AllowedHosts(o.hosts ?? []);
      this.hosts = () => fixed;
    }
    this.token = o.token ? digest(o.token) : null;
  }

  get readOnly(): boolean {
    return this.token === null;
  }

  /** Any request: the Host is allowed, and a browser's Origin, when sent, is this same host. */
  request(req: http.IncomingMessage): Refusal | null {
    if (!this.hosts().allows(req.headers.host)) return { status: 421, error: 'this host name is not allowed for the console' };
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
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    return m !== null && this.matches(m[1]!);
  }

  /** Is this the console token? (compared in constant time; the inbox's drain takes it too) */
  matches(token: string): boolean {
    return this.token !== null && timingSafeEqual(digest(token), this.token);
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
