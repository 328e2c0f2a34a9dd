// Byte sizes as written in config: `10MB`, `25 MB`, `512KB`, `1.5GB`, or a plain number of bytes.
// K/M/G are binary (1024-based), as people mean them for file and body limits.

const UNIT: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

const SIZE = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/;

/** Parses a size to bytes; throws an Error naming the bad input. */
export function parseSize(v: string | number): number {
  if (typeof v === 'number') {
    if (Number.isFinite(v) && v >= 0) return Math.floor(v);
  } else if (typeof v === 'string') {
    const m = SIZE.exec(v);
    if (m) {
      const unit = m[2]!.toLowerCase() || 'b';
      const mult = UNIT[unit];
      if (mult !== undefined) return Math.floor(Number(m[1]) * mult);
    }
  }
  throw new Error(`invalid size ${JSON.stringify(v)}: expected bytes or a number with a unit (B, KB, MB, GB), e.g. 10MB`);
}

/** Validation helper mirroring durationIssue. */
export function sizeIssue(config: Record<string, unknown>, key: string, path: string = key): { path: string; message: string } | null {
  const v = config[key];
  if (v === undefined || v === null) return null;
  try {
    if (parseSize(v as string) <= 0) return { path, message: `${path} must be greater than zero` };
    return null;
  } catch (err) {
    return { path, message: (err as Error).message };
  }
}
