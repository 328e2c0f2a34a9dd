// The executor's own console output: one readable line per log entry, buffered per event-loop
// turn so a busy executor makes one write() per turn instead of one per line.

import { keyedLine } from '../../providers/lib/log-line.js';
import { fromLogRow } from './log-row.js';
import type { LogEntry } from '../../providers/types.js';
import type { StoredLogEntry } from '../../state/store.js';
import { levelRank } from '../../providers/lib/level.js';

export interface ConsoleOptions {
  level: string;
  color: boolean;
  write: (text: string) => void;
}

export class ConsoleOut {
  private buf: string[] = [];
  private scheduled = false;
  private readonly min: number;

  constructor(private readonly o: ConsoleOptions) {
    this.min = levelRank(o.level);
  }

  entry(e: LogEntry): void {
    if (levelRank(e.level) < this.min) return;
    this.line(keyedLine(e, this.o.color));
  }

  line(text: string): void {
    this.buf.push(text);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.buf.length === 0) return;
    const text = this.buf.join('\n') + '\n';
    this.buf = [];
    this.o.write(text);
  }
}

/** A stored log row (from `orgloop logs`) in the same one-line format the executor prints. */
export function formatStoredEntry(r: StoredLogEntry, color: boolean): string {
  return keyedLine(fromLogRow(r), color, true);
}
