// Limits on what a request body may look like before anything parses it. V8's JSON.parse copes
// with deep nesting but JSON.stringify (storing the event) and every recursive walk after it do
// not: a body nested 5,000 deep used to end as a 500 the sender retried forever. The depth is
// measured on the raw bytes, so the check costs one pass and no allocation.

/** Deepest nesting accepted in a JSON body. Real webhook payloads nest about 10 levels deep. */
export const MAX_JSON_DEPTH = 128;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * True when `body`, read as JSON text, nests objects/arrays deeper than `max`. Brackets inside
 * strings do not count. Bytes of multi-byte UTF-8 characters are all >= 0x80, so they can never
 * be mistaken for a quote or a bracket. Malformed text is left for the parser to reject.
 */
export function jsonTooDeep(body: Buffer, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}

/** `decodeURIComponent` that answers null for malformed escapes (`%ZZ`, a lone `%E2`). */
export function decodePathSegment(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}
