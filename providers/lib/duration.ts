// Durations as written in config: `500ms`, `30s`, `2m`, `1h30m`, `1d`, `1.5h`.
// Units may be combined largest-first-or-not; whitespace between parts is allowed.

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const WHOLE = /^(?:\s*\d+(?:\.\d+)?\s*(?:ms|s|m|h|d|w)\s*)+$/;
const PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/g;

/** Parses a duration string to milliseconds; throws an Error naming the bad input. */
export function parseDuration(s: string): number {
  if (typeof s !== 'string' || !WHOLE.test(s)) {
    throw new Error(
      `invalid duration ${JSON.stringify(s)}: expected a number with a unit (ms, s, m, h, d, w), e.g. 500ms, 30s, 2m, 1h30m, 1d`,
    );
  }
  let total = 0;
  for (const m of s.matchAll(PART)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return Math.round(total);
}

/** Like parseDuration, but returns `fallback` for undefined/null. */
export function durationOr(value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  return parseDuration(value as string);
}

/**
 * Validation helper: returns an issue for config[key] when it is present and not a valid
 * duration, or zero where zero is not allowed (`zero: true` allows it).
 */
export function durationIssue(
  config: Record<string, unknown>,
  key: string,
  path: string = key,
  allow: { zero?: boolean } = {},
): { path: string; message: string } | null {
  const v = config[key];
  if (v === undefined || v === null) return null;
  try {
    if (parseDuration(v as string) <= 0 && !allow.zero) return { path, message: `${path} must be greater than zero` };
    return null;
  } catch (err) {
    return { path, message: (err as Error).message };
  }
}
