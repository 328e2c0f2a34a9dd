// Collects every problem found while loading, placed at file:line:col.

import type { Diagnostic } from '../graph/types.js';
import type { PathSeg, Position, SourceFile } from './source.js';

export class Diagnostics {
  readonly errors: Diagnostic[] = [];
  readonly warnings: Diagnostic[] = [];

  /** A problem at `path` inside `src` (position resolved from the YAML). */
  at(src: SourceFile, path: PathSeg[], message: string, severity: 'error' | 'warning' = 'error', opts: { key?: boolean } = {}): void {
    this.atPos(src, src.pos(path, opts), message, severity);
  }

  atPos(src: SourceFile | string, pos: Position, message: string, severity: 'error' | 'warning' = 'error'): void {
    const file = typeof src === 'string' ? src : src.display;
    const d: Diagnostic = { file, line: pos.line, col: pos.col, message: oneLine(message), severity };
    (severity === 'error' ? this.errors : this.warnings).push(d);
  }

  get failed(): boolean {
    return this.errors.length > 0;
  }
}

/**
 * A diagnostic is one `file:line:col: message` line: values quoted into a message (a type name,
 * a key) may hold line breaks or other control characters, which are shown escaped instead.
 */
function oneLine(message: string): string {
  // eslint-disable-next-line no-control-regex
  return message.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
