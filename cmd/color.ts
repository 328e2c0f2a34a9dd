// The one colour decision, for the CLI and the console logger alike: never with NO_COLOR or an
// explicit off (--no-color), always with FORCE_COLOR (other than 0/false), otherwise only when
// the output is a terminal. Made here, in cmd/, and handed down: the engine and the providers
// get the answer (OutputColor), not the environment.

import type { OutputColor } from '../providers/types.js';

export function colorFor(out: { isTTY?: boolean }, off = false): boolean {
  if (off || process.env.NO_COLOR) return false;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== '0' && force !== 'false') return true;
  return Boolean(out.isTTY);
}

/** The decision for both output streams, as the executor hands it to loggers. */
export function outputColor(off = false): OutputColor {
  return { stdout: colorFor(process.stdout, off), stderr: colorFor(process.stderr, off) };
}
