// ISO-8601 timestamps for rows and log entries. A busy executor stamps several per event, many
// within the same millisecond; formatting one costs about 0.5 µs, so the last one is reused.

let lastMs = NaN;
let last = '';

/** `new Date(ms).toISOString()`, formatted once per distinct millisecond. */
export function isoTime(ms: number = Date.now()): string {
  if (ms !== lastMs) {
    last = new Date(ms).toISOString();
    lastMs = ms;
  }
  return last;
}
