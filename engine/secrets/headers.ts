// Ingress request headers as orgloop stores them beside an event (the console's trace shows
// them): a header whose name says it carries a credential or a signature keeps only its name,
// every other value has known secret values scrubbed (redact.ts), and the whole is bounded so a
// request with thousands of headers cannot bloat the store.

import { REDACTED, redact } from './redact.js';
import { SENSITIVE_NAME_WORDS } from './sensitivity.js';

/** Name parts that mark a header as secret: the variable-name words, and signatures and API keys. */
const SECRET_HEADER = new RegExp([...SENSITIVE_NAME_WORDS, 'SIGNATURE', 'SIG', 'APIKEY', 'API-KEY', 'PASS', 'HMAC', 'JWT', 'BEARER'].join('|'), 'i');

const MAX_HEADERS = 64;
const MAX_VALUE = 512;
const MAX_NAME = 128;

export function isSecretHeader(name: string): boolean {
  return SECRET_HEADER.test(name);
}

/** Headers (lower-case names, as node gives them) masked and bounded, in the order received. */
export function maskHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  for (const [rawName, raw] of Object.entries(headers)) {
    if (raw === undefined) continue;
    if (n++ >= MAX_HEADERS) {
      out['(more)'] = `${Object.keys(headers).length - MAX_HEADERS} more headers not kept`;
      break;
    }
    const name = rawName.toLowerCase().slice(0, MAX_NAME);
    if (isSecretHeader(name)) {
      out[name] = REDACTED;
      continue;
    }
    const value = redact(Array.isArray(raw) ? raw.join(', ') : raw);
    out[name] = value.length > MAX_VALUE ? `${value.slice(0, MAX_VALUE)}... (${value.length} characters)` : value;
  }
  return out;
}
