// Scrubbing log entries a logger ships off the machine (otel, syslog). The executor already
// scrubs the secret values it resolved from error text; a logger adds what it can see itself:
// its own sensitive config values (an exporter's auth header), credentials written into URLs
// (`https://user:pass@host`), bearer tokens and `key=value` credentials in text, and the values of
// data fields whose names say they hold a secret.

import type { LogEntry } from '../types.js';

export const REDACTED = '[redacted]';

/** names of data fields whose values are never shipped */
const SECRET_NAME = /(^|[_-])(secret|token|password|passwd|apikey|api[-_]key|credentials?|authorization|cookie|private[-_]key|signature)($|[_-])/i;
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi;
const BEARER = /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
const KEY_VALUE = /\b((?:access_|refresh_|api_|client_)?(?:token|secret|password|api_key|apikey|sig|signature))=([^&\s"']+)/gi;

export interface Redactor {
  text(s: string): string;
  entry(e: LogEntry): LogEntry;
}

/** A redactor for these known secret values (short ones are ignored: they would shred text). */
export function redactor(secrets: Iterable<string> = []): Redactor {
  const values = [...new Set([...secrets].filter((s) => typeof s === 'string' && s.length >= 4))].sort((a, b) => b.length - a.length);
  const text = (s: string): string => {
    let out = s;
    for (const v of values) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out.replace(URL_USERINFO, `$1${REDACTED}@`).replace(BEARER, `$1 ${REDACTED}`).replace(KEY_VALUE, `$1=${REDACTED}`);
  };
  const value = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return text(v);
    if (depth > 4 || v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x) => value(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = SECRET_NAME.test(k) ? REDACTED : value(x, depth + 1);
    return out;
  };
  return {
    text,
    entry(e) {
      const out: LogEntry = { ...e };
      if (e.message !== undefined) out.message = text(e.message);
      if (e.data) out.data = value(e.data, 0) as Record<string, unknown>;
      return out;
    },
  };
}

/** Every string under the given config paths (header values, tokens): what a logger must not ship. */
export function configSecrets(config: Record<string, unknown>, keys: string[]): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') out.push(v);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
  };
  for (const k of keys) walk(config[k]);
  // "Bearer abc..." header values: the token alone may also appear in text
  for (const s of [...out]) {
    const m = /^(?:bearer|basic)\s+(.+)$/i.exec(s);
    if (m) out.push(m[1]!);
  }
  return out;
}
