// Helpers for writing provider config schemas.

/**
 * A case-insensitive form of a regular expression for `patternProperties` (JSON Schema patterns
 * take no flags): every letter becomes `[xX]`. Only for plain patterns: no escapes or classes.
 */
export function anyCase(pattern: string): string {
  return pattern.replace(/[a-z]/gi, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`);
}
