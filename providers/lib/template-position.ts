// `{{path}}` templates rendered for where their text goes: a URL, a JSON document, a shell
// command line, a form body. Event values are attacker-controlled (anyone who can post a webhook
// writes the payload), so a value may never change the structure around it: a repo name of
// `../../admin/delete?x=` must stay one path segment, a title of `", "channel": "#admins"` must
// stay inside its JSON string, a branch name of `$(curl evil)` must stay one shell word.
//
// Each renderer scans the template's literal text to know the position of every tag (inside a
// JSON string or not, in a URL's host, path, query or fragment, inside shell quotes or not) and
// encodes the value for that position. Values are encoded, so they cannot move the scan on.
// Header values need no renderer of their own: HTTP cannot carry CR, LF or other control
// characters, and `unsendableHeader` (http-outcome.ts) refuses a header holding one.

import { getPath } from './path.js';
import { asText, hasTemplate, templatePieces } from './template.js';

export type Rendered = { ok: true; text: string } | { ok: false; error: string };

const tagName = (path: string[]) => `{{${path.join('.')}}}`;

// --- URLs -------------------------------------------------------------------------------

type UrlPart = 'origin' | 'path' | 'query' | 'fragment';
const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;
/** What may be substituted into a scheme, host or port: a name, never a `/`, `@`, `?` or `#`. */
const HOST_TEXT = /^[A-Za-z0-9.-]*$/;

function urlPart(before: string): UrlPart {
  const m = ORIGIN.exec(before);
  if (!m || m[0].length === before.length) return 'origin';
  const rest = before.slice(m[0].length);
  if (rest.includes('#')) return 'fragment';
  if (rest.includes('?')) return 'query';
  return 'path';
}

const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/**
 * Renders a URL template. Values in the path, query and fragment are percent-encoded as one
 * component (so `/`, `?`, `#`, `&` and `=` in a value are data); a value that would make a whole
 * path segment `.` or `..` is refused (URL parsers resolve those, moving the request). Values in
 * the scheme, host or port may only be names (letters, digits, dots, hyphens): a template whose
 * host, or whole URL, comes from an event is refused, since it would send credentials anywhere.
 */
export function renderUrl(template: string, data: unknown): Rendered {
  if (!hasTemplate(template)) return { ok: true, text: template };
  let out = '';
  const inPath: Array<{ start: number; end: number; tag: string }> = [];
  for (const piece of templatePieces(template)) {
    if (typeof piece === 'string') {
      out += piece;
      continue;
    }
    const text = asText(getPath(data, piece));
    const part = urlPart(out);
    if (part === 'origin') {
      if (!HOST_TEXT.test(text)) {
        return { ok: false, error: `url: ${tagName(piece)} is in the scheme or host of the URL, where only a host name (letters, digits, dots, hyphens) may be substituted; its value is not one` };
      }
      out += text;
      continue;
    }
    const encoded = encodeURIComponent(text);
    if (part === 'path') inPath.push({ start: out.length, end: out.length + encoded.length, tag: tagName(piece) });
    out += encoded;
  }
  if (inPath.length) {
    const origin = ORIGIN.exec(out)?.[0].length ?? 0;
    const q = out.slice(origin).search(/[?#]/);
    const pathEnd = q < 0 ? out.length : origin + q;
    for (const v of inPath) {
      const segStart = out.lastIndexOf('/', v.start - 1) + 1;
      const next = out.indexOf('/', v.end);
      const segment = out.slice(Math.max(segStart, origin), next < 0 || next > pathEnd ? pathEnd : next);
      if (DOT_SEGMENT.test(segment)) return { ok: false, error: `url: ${v.tag} makes the path segment "${segment}", which would move the request to another path` };
    }
  }
  return { ok: true, text: out };
}

// --- JSON text ---------------------------------------------------------------------------

/**
 * Renders a JSON document written as text (`body: '{"text": "{{payload.title}}"}'`). A tag inside
 * a JSON string gets the value's text escaped as string content; a tag outside a string gets the
 * value as a JSON value (a number stays a number, text becomes a quoted string, a missing value
 * `null`), so no value can end a string or add a key.
 */
export function renderJsonText(template: string, data: unknown): string {
  if (!hasTemplate(template)) return template;
  let out = '';
  let inString = false;
  let escaped = false;
  for (const piece of templatePieces(template)) {
    if (typeof piece !== 'string') {
      const v = getPath(data, piece);
      out += inString ? JSON.stringify(asText(v)).slice(1, -1) : v === undefined ? 'null' : (JSON.stringify(v) ?? 'null');
      continue;
    }
    out += piece;
    for (const ch of piece) {
      if (escaped) escaped = false;
      else if (inString && ch === '\\') escaped = true;
      else if (ch === '"') inString = !inString;
    }
  }
  return out;
}

// --- shell command lines -----------------------------------------------------------------

/**
 * Renders a command line for `sh -c`. Each value becomes exactly one word's worth of text,
 * whatever quotes the template put around the tag: single-quoted outside quotes, with `'` closed
 * and reopened inside single quotes, with `\ " $` and backquote escaped inside double quotes.
 */
export function renderShell(template: string, data: unknown): string {
  if (!hasTemplate(template)) return template;
  let out = '';
  let quote: '' | "'" | '"' = '';
  let escaped = false;
  for (const piece of templatePieces(template)) {
    if (typeof piece !== 'string') {
      const text = asText(getPath(data, piece)).replace(/\0/g, '');
      if (quote === "'") out += text.replace(/'/g, `'\\''`);
      else if (quote === '"') out += text.replace(/[\\"$`]/g, '\\$&');
      else out += `'${text.replace(/'/g, `'\\''`)}'`;
      continue;
    }
    out += piece;
    for (const ch of piece) {
      if (escaped) escaped = false;
      else if (quote !== "'" && ch === '\\') escaped = true;
      else if (quote === '' && (ch === "'" || ch === '"')) quote = ch;
      else if (ch === quote) quote = '';
    }
  }
  return out;
}

// --- form bodies -------------------------------------------------------------------------

/** Renders an `application/x-www-form-urlencoded` body: every value is one encoded component. */
export function renderForm(template: string, data: unknown): string {
  if (!hasTemplate(template)) return template;
  let out = '';
  for (const piece of templatePieces(template)) out += typeof piece === 'string' ? piece : encodeURIComponent(asText(getPath(data, piece)));
  return out;
}
