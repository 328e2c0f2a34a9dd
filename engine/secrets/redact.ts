// Scrubbing secret values from text (error bodies, log lines) before it is stored or printed.
// Every sensitive value orgloop resolves (resolveSecrets) is remembered here for the life of
// the process; `redact(text)` replaces each occurrence, also URL-encoded or JSON-escaped (the
// forms an HTTP error echo usually takes), with REDACTED.

export const REDACTED = '[redacted]';

/** Values shorter than this are not scrubbed: a 3-character "secret" would shred every message. */
export const MIN_REDACTED_LENGTH = 4;

/** Bound on remembered values (rotations add new ones); the oldest are forgotten first. */
const MAX_VALUES = 4096;

const known = new Set<string>();
let pattern: RegExp | null = null;

function forms(value: string): string[] {
  const out = new Set([value]);
  out.add(encodeURIComponent(value));
  out.add(JSON.stringify(value).slice(1, -1));
  return [...out];
}

/** Remember a resolved secret value so `redact` scrubs it. */
export function rememberSecret(value: string): void {
  if (value.length < MIN_REDACTED_LENGTH || known.has(value)) return;
  known.add(value);
  if (known.size > MAX_VALUES) known.delete(known.values().next().value as string);
  pattern = null;
}

/** Forget every remembered value (tests; a process that ends its last graph need not). */
export function forgetSecrets(): void {
  known.clear();
  pattern = null;
}

function compiled(): RegExp | null {
  if (pattern || known.size === 0) return pattern;
  const all = new Set<string>();
  for (const v of known) for (const f of forms(v)) all.add(f);
  // longest first, so a value containing another is replaced whole
  const alternatives = [...all].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  pattern = new RegExp(alternatives.join('|'), 'g');
  return pattern;
}

/**
 * `text` with every known secret value replaced by REDACTED. Cheap when nothing matches (one
 * regular-expression scan); returns `text` itself when no secret was ever resolved.
 */
export function redact(text: string): string {
  const re = compiled();
  if (!re || !text) return text;
  re.lastIndex = 0;
  return text.replace(re, REDACTED);
}
