// Group commit for Postgres: calls made during one turn of the event loop are sent as one
// multi-row statement (ingest, completions) instead of one transaction each. At most `inFlight`
// batches run at once; while they do, new calls gather into the next batch, so batches grow with
// load the way SQLite's WriteBatcher turns a burst into one transaction. A batch that fails for
// any reason other than an unreachable store is run again call by call (`one`), so a call that
// fails on its own rejects alone.

interface Call<I, O> {
  input: I;
  resolve: (v: O) => void;
  reject: (e: unknown) => void;
}

export class TurnBatch<I, O> {
  private queue: Array<Call<I, O>> = [];
  private scheduled = false;
  private running = 0;

  constructor(
    /** the whole batch at once: one output per input, in order */
    private readonly all: (inputs: I[]) => Promise<O[]>,
    /** one call on its own, when its batch failed */
    private readonly one: (input: I) => Promise<O>,
    private readonly isUnavailable: (e: unknown) => boolean,
    private readonly inFlight = 3,
  ) {}

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.scheduled || this.queue.length === 0 || this.running >= this.inFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.running >= this.inFlight || this.queue.length === 0) return;
      const calls = this.queue;
      this.queue = [];
      this.running++;
      void this.run(calls).finally(() => {
        this.running--;
        this.kick();
      });
    });
  }

  private async run(calls: Array<Call<I, O>>): Promise<void> {
    try {
      const out = await this.all(calls.map((c) => c.input));
      calls.forEach((c, i) => c.resolve(out[i]!));
      return;
    } catch (e) {
      if (calls.length === 1 || this.isUnavailable(e)) {
        for (const c of calls) c.reject(e);
        return;
      }
    }
    await Promise.all(calls.map((c) => this.one(c.input).then(c.resolve, c.reject)));
  }
}
