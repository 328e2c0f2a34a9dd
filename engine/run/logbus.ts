// Fan-out of executor log entries: to the configured loggers and, batched, to the store's log
// table (so `orgloop logs` works without a `store` logger). Logging must never slow delivery
// down or take the executor with it: sinks that throw are reported once and skipped.

import type { LogEntry, LoggerSink, OutputColor } from '../../providers/types.js';
import type { LogSink, StoredLogEntry } from '../../state/runtime-plane.js';
import type { RuntimeLogger } from './graph.js';
import { toLogRow } from './log-row.js';
import { levelRank as rank } from '../../providers/lib/level.js';


interface OpenSink {
  fingerprint: string;
  name: string;
  minRank: number;
  sink: LoggerSink;
  failed: boolean;
}

export interface LogBusOptions {
  /** level written to the store log table when no `store` logger is configured */
  storeLevel?: string;
  /** called for entries when no `console` logger is configured (the executor's own console output) */
  fallbackConsole?: (entry: LogEntry) => void;
  /** the least level fallbackConsole prints (default: it is given every entry) */
  fallbackLevel?: string;
  /** the CLI's colour decision, for console loggers (default: no colour) */
  color?: OutputColor;
  /** where the bus reports its own trouble */
  warn: (msg: string) => void;
  flushMs?: number;
}

export class LogBus {
  private sinks: OpenSink[] = [];
  private storeBuffer: Array<Omit<StoredLogEntry, 'id'>> = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private storeMinRank: number;
  private hasStoreLogger = false;
  private hasConsoleLogger = false;
  private lastStoreWarn = 0;
  /** the least rank any destination takes */
  private minRank = 0;

  constructor(
    private readonly store: LogSink | null,
    private readonly opts: LogBusOptions,
  ) {
    this.storeMinRank = rank(opts.storeLevel ?? 'info');
    this.minRank = this.leastRank();
  }

  /** Whether an entry of this level goes anywhere: callers skip building the ones that do not. */
  enabled(level: LogEntry['level']): boolean {
    return rank(level) >= this.minRank;
  }

  private leastRank(): number {
    let min = Infinity;
    for (const s of this.sinks) min = Math.min(min, s.minRank);
    if (!this.hasStoreLogger && this.store) min = Math.min(min, this.storeMinRank);
    if (!this.hasConsoleLogger && this.opts.fallbackConsole) min = Math.min(min, this.opts.fallbackLevel ? rank(this.opts.fallbackLevel) : 0);
    return min;
  }

  /** Opens sinks for a new graph's loggers, keeping unchanged ones open, closing removed ones. */
  async configure(loggers: RuntimeLogger[]): Promise<void> {
    const keep: OpenSink[] = [];
    const old = new Map(this.sinks.map((s) => [s.name, s]));
    for (const l of loggers) {
      const prev = old.get(l.name);
      if (prev && prev.fingerprint === l.fingerprint) {
        keep.push(prev);
        old.delete(l.name);
        continue;
      }
      try {
        const ctx = { ...l.ctx, color: this.opts.color, appendStoreLog: (e: LogEntry) => this.toStore(e) };
        keep.push({ fingerprint: l.fingerprint, name: l.name, minRank: rank(l.level), sink: l.provider.open(ctx), failed: false });
      } catch (err) {
        this.opts.warn(`logger ${l.name}: could not open: ${(err as Error).message}`);
      }
    }
    const removed = [...old.values()];
    this.sinks = keep;
    this.hasStoreLogger = loggers.some((l) => l.type === 'store');
    this.hasConsoleLogger = loggers.some((l) => l.type === 'console');
    this.minRank = this.leastRank();
    for (const s of removed) await s.sink.close().catch(() => {});
  }

  emit(entry: LogEntry): void {
    const r = rank(entry.level);
    for (const s of this.sinks) {
      if (r < s.minRank || s.failed) continue;
      try {
        s.sink.log(entry);
      } catch (err) {
        s.failed = true;
        this.opts.warn(`logger ${s.name} failed and is disabled until the next apply: ${(err as Error).message}`);
      }
    }
    if (!this.hasStoreLogger && r >= this.storeMinRank) this.toStore(entry);
    if (!this.hasConsoleLogger && this.opts.fallbackConsole) this.opts.fallbackConsole(entry);
  }

  private toStore(e: LogEntry): void {
    if (!this.store) return;
    this.storeBuffer.push(toLogRow(e));
    if (this.storeBuffer.length >= 2000) void this.flush();
    else if (!this.flushTimer) this.flushTimer = setTimeout(() => void this.flush(), this.opts.flushMs ?? 200);
  }

  async flush(): Promise<void> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    while (this.flushing) await this.flushing;
    if (!this.store || this.storeBuffer.length === 0) return;
    const batch = this.storeBuffer;
    this.storeBuffer = [];
    this.flushing = this.store
      .appendLog(batch)
      .catch((err) => {
        // The log table is an observability aid, not the durable plane: drop and say so (rate-limited).
        const now = Date.now();
        if (now - this.lastStoreWarn > 10_000) {
          this.lastStoreWarn = now;
          this.opts.warn(`could not write ${batch.length} log entries to the state store: ${(err as Error).message}`);
        }
      })
      .finally(() => {
        this.flushing = null;
      });
    await this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
    for (const s of this.sinks) await s.sink.close().catch(() => {});
    this.sinks = [];
  }
}
