import { describe, expect, it } from 'vitest';
import { forTerminal } from './terminal.js';

describe('forTerminal (issue 17, hole 15)', () => {
  it('shows escape sequences and control characters instead of sending them to the terminal', () => {
    expect(forTerminal('\x1b]0;pwned\x07\x1b[2Jok')).toBe('\\x1b]0;pwned\\x07\\x1b[2Jok');
    expect(forTerminal('line\nfake 12:00:00 INFO deliver.success')).toBe('line\\nfake 12:00:00 INFO deliver.success');
    expect(forTerminal('\u009b31m\u202eevil')).toBe('\\x9b31m\\u202eevil');
  });
  it('leaves ordinary text, unicode and emoji alone', () => {
    for (const s of ['plain', 'café – “quotes” ’ 🎉', '']) expect(forTerminal(s)).toBe(s);
  });
});
