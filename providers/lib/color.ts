// The one colour decision, for the CLI and the console logger alike: never with NO_COLOR or an
// explicit off (--no-color, `color: false`), always with FORCE_COLOR (other than 0/false),
// otherwise only when the output is a terminal.

export function colorFor(out: { isTTY?: boolean }, off = false): boolean {
  if (off || process.env.NO_COLOR) return false;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== '0' && force !== 'false') return true;
  return Boolean(out.isTTY);
}
