// Group commit. Every write submitted during one turn of the event loop runs in a single
// BEGIN IMMEDIATE transaction, so a burst of completions or ingests costs one fsync instead
// of one each — this is what lets synchronous=FULL keep up with thousands of events a second.
// An operation's writes are atomic and one that throws (say, a stale serial) rejects alone:
// the batch first runs plainly, and only if an operation throws is it rolled back and run again
// with a savepoint around each operation (savepoints cost about 6% of the executor's time at
// full load, and throwing operations are rare). A failure of the transaction itself rejects
// them all, and nothing in the batch was committed. A promise resolves only after COMMIT returned.

import type Database from 'better-sqlite3';
import { isUnavailable } from './errors.js';

interface Op {
  run: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class WriteBatcher {
  private queue: Op[] = [];
  private scheduled = false;
  private readonly plain: Database.Transaction<(ops: Op[]) => unknown[]>;
  private readonly isolated: Database.Transaction<(ops: Op[]) => Outcome[]>;

  constructor(
    db: Database.Database,
    private readonly wrapError: (e: unknown) => unknown,
  ) {
    this.plain = db.transaction((ops: Op[]) => ops.map((op) => op.run()));
    const savepoint = db.transaction((run: () => unknown) => run());
    this.isolated = db.transaction((ops: Op[]) =>
      ops.map((op): Outcome => {
        try {
          return { ok: true, value: savepoint(op.run) };
        } catch (error) {
          // the transaction itself is broken (disk full, I/O): abandon the whole batch
          if (isUnavailable(error)) throw error;
          return { ok: false, error };
        }
      }),
    );
  }

  submit<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Runs everything queued now; also called by close() so no accepted write is dropped. */
  flush(): void {
    this.scheduled = false;
    const ops = this.queue;
    if (ops.length === 0) return;
    this.queue = [];
    try {
      const values = this.plain.immediate(ops);
      for (let i = 0; i < ops.length; i++) ops[i]!.resolve(values[i]);
      return;
    } catch (e) {
      // rolled back; an operation failing on its own gets the batch run again, isolated
      if (isUnavailable(e)) return this.rejectAll(ops, e);
    }
    let outcomes: Outcome[];
    try {
      outcomes = this.isolated.immediate(ops);
    } catch (e) {
      return this.rejectAll(ops, e);
    }
    ops.forEach((op, i) => {
      const o = outcomes[i];
      if (o.ok) op.resolve(o.value);
      else op.reject(this.wrapError(o.error));
    });
  }

  private rejectAll(ops: Op[], e: unknown): void {
    const err = this.wrapError(e);
    for (const op of ops) op.reject(err);
  }
}
