// A polling source's cursor is JSON with a format version `v`. One we cannot read (corrupt, or an
// older format) restarts the source from a fresh cursor rather than crashing its poller forever.

export function readCursor<T extends { v: number }>(raw: string | null, fresh: () => T, valid: (c: T) => boolean = () => true): T {
  if (!raw) return fresh();
  try {
    const c = JSON.parse(raw) as T;
    if (c && c.v === fresh().v && valid(c)) return c;
  } catch {
    /* restart below */
  }
  return fresh();
}
