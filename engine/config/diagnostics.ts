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
    const d: Diagnostic = { file, line: pos.line, col: pos.col, message, severity };
    (severity === 'error' ? this.errors : this.warnings).push(d);
  }

  get failed(): boolean {
    return this.errors.length > 0;
  }
}
