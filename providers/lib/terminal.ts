// Text from outside (payload fields, error bodies, agent output) printed for a human goes through
// `forTerminal`: control characters, escape sequences included, are shown as \x1b-style escapes
// instead of reaching the terminal, where they could rewrite the screen, fake log lines or set
// the window title. JSON output is left exact (JSON.stringify already escapes them).

// C0 controls (newline and tab too: a log line stays one line), DEL, C1 controls, and the Unicode
// line/paragraph separators and bidirectional overrides that reorder what is shown
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function forTerminal(text: string): string {
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(text)) return text;
  return text.replace(UNSAFE, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
