// The executor's own console output: one readable line per log entry, buffered per event-loop
// turn so a busy executor makes one write() per turn instead of one per line.

import { forTerminal } from '../../providers/lib/terminal.js';
import type { LogEntry } from '../../providers/types.js';
import type { StoredLogEntry } from '../../state/store.js';
import { levelRank } from '../../providers/lib/level.js';


export interface ConsoleOptions {
  level: string;
  color: boolean;
  write: (text: string) => void;
}

const COLORS: Record<string, string> = { debug: '\x1b[2m', info: '', warn: '\x1b[33m', error: '\x1b[31m' };

export function formatEntry(e: LogEntry, color: boolean, withDate = false): string {
  const t = withDate ? e.time.slice(0, 23).replace('T', ' ') : e.time.slice(11, 23);
  const where = [e.source && `source=${e.source}`, e.route && `route=${e.route}`, e.actor && `actor=${e.actor}`, e.delivery_id ?? e.event_id]
    .filter(Boolean)
    .join(' ');
  const line = forTerminal(`${t} ${e.phase.padEnd(15)} ${where}${e.message ? `  ${e.message}` : ''}`);
  if (!color) return line;
  const c = COLORS[e.level] ?? '';
  return c ? `${c}${line}\x1b[0m` : line;
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
    this.line(formatEntry(e, this.o.color));
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
  return formatEntry(
    {
      time: r.time,
      phase: r.phase,
      level: r.level as LogEntry['level'],
      source: r.source ?? undefined,
      route: r.route ?? undefined,
      actor: r.actor ?? undefined,
      event_id: r.event_id ?? undefined,
      delivery_id: r.delivery_id ?? undefined,
      trace_id: r.trace_id ?? undefined,
      message: r.message ?? undefined,
    },
    color,
    true,
  );
}
