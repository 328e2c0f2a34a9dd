// Group commit. Every write submitted during one turn of the event loop runs in a single
// BEGIN IMMEDIATE transaction, so a burst of completions or ingests costs one fsync instead
// of one each — this is what lets synchronous=FULL keep up with thousands of events a second.
// Each operation runs in its own savepoint: one that throws (say, a stale serial) is rolled
// back alone and rejects alone; a failure of the transaction itself rejects them all, and
// nothing in the batch was committed. A promise resolves only after COMMIT returned.

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
  private readonly outer: Database.Transaction<(ops: Op[]) => Outcome[]>;

  constructor(
    db: Database.Database,
    private readonly wrapError: (e: unknown) => unknown,
  ) {
    const savepoint = db.transaction((run: () => unknown) => run());
    this.outer = db.transaction((ops: Op[]) =>
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
    let outcomes: Outcome[];
    try {
      outcomes = this.outer.immediate(ops);
    } catch (e) {
      const err = this.wrapError(e);
      for (const op of ops) op.reject(err);
      return;
    }
    ops.forEach((op, i) => {
      const o = outcomes[i];
      if (o.ok) op.resolve(o.value);
      else op.reject(this.wrapError(o.error));
    });
  }
}
