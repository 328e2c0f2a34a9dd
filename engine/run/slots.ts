// Slots: the deliveries this executor holds and whether more may come straight from ingest.
// Intake puts deliveries it inserted leased to this executor here (no claim needed); the
// delivery workers take them out into their slots. Up to `concurrency` run at once and up to
// `prefetch` more wait here, oldest first, with their leases kept alive by the workers. Pure
// accounting, no I/O: the workers are told when there is something to do (serve).

import type { Delivery } from '../../state/store.js';

/** A delivery waiting for a slot, and whether its event's body is held in memory for it (EventMemory). */
export interface Queued {
  delivery: Delivery;
  held: boolean;
}

/** What the workers do when told. */
export interface SlotsConsumer {
  /** deliveries were admitted: start those that have a slot */
  admitted(): void;
  /** deliveries were queued in the store as pending: claim them */
  queued(): void;
}

export class Slots {
  private running = 0;
  /** slots promised to deliveries being leased at ingest (see reserve) */
  private reserved = 0;
  private waiting: Queued[] = [];
  private head = 0;
  private consumer: SlotsConsumer | null = null;
  /**
   * Work may be queued in the store (set by anyone who queued some, cleared by a claim that
   * came back short): while it may be, new deliveries queue behind it rather than skip it.
   */
  backlog = true;
  private closed = false;

  constructor(
    private readonly concurrency: number,
    private prefetch: number,
  ) {}

  /**
   * With peers on the same store, deliveries beyond the free slots go to the store queue for
   * whichever executor has room (0); alone, up to the configured prefetch wait here.
   */
  setPrefetch(n: number): void {
    this.prefetch = n;
  }

  /** Called once, by the workers that take deliveries out. */
  serve(consumer: SlotsConsumer): void {
    if (this.consumer) throw new Error('slots already have their workers');
    this.consumer = consumer;
  }

  get active(): number {
    return this.running;
  }

  get waitingCount(): number {
    return this.waiting.length - this.head;
  }

  /** Slots a claim may fill now: waiting deliveries take freed slots first. */
  get free(): number {
    return this.concurrency - this.running - this.reserved - this.waitingCount;
  }

  /**
   * Reserves room for `n` deliveries about to be inserted leased to this executor: a free slot
   * or a place among the `prefetch` waiting ones. Refused once closed, when there is no room,
   * or while work may be queued in the store: then new work queues behind it in order.
   */
  reserve(n: number): boolean {
    if (this.closed || this.backlog) return false;
    if (this.running + this.waitingCount + this.reserved + n > this.concurrency + this.prefetch) return false;
    this.reserved += n;
    return true;
  }

  /** Gives back reserved room that was not used (ingest failed, duplicate event). */
  unreserve(n: number): void {
    this.reserved = Math.max(0, this.reserved - n);
  }

  /** Deliveries inserted leased to this executor, in room reserved for them. */
  admit(ds: Queued[]): void {
    this.reserved = Math.max(0, this.reserved - ds.length);
    // Closed: leave them leased; the workers' shutdown hands them back (or the lease expires).
    if (this.closed) return;
    for (const q of ds) this.waiting.push(q);
    this.consumer?.admitted();
  }

  /** Deliveries were queued in the store: they come through a claim. */
  queued(): void {
    this.backlog = true;
    this.consumer?.queued();
  }

  /** The next waiting delivery, if a slot is free for it (the slot is taken). */
  next(): Queued | undefined {
    if (this.closed || this.running >= this.concurrency || this.head === this.waiting.length) return undefined;
    const q = this.waiting[this.head++]!;
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    this.running++;
    return q;
  }

  /** A claimed delivery takes a slot. */
  take(): void {
    this.running++;
  }

  /** A running delivery finished: its slot is free. */
  release(): void {
    this.running--;
  }

  /** Ids of the waiting deliveries (their leases are renewed with the running ones'). */
  waitingIds(): string[] {
    const ids: string[] = [];
    for (let i = this.head; i < this.waiting.length; i++) ids.push(this.waiting[i]!.delivery.id);
    return ids;
  }

  /** Removes waiting deliveries whose lease another executor took; returns them. */
  dropLost(lost: Set<string>): Queued[] {
    const dropped: Queued[] = [];
    this.waiting = this.waiting.slice(this.head).filter((q) => (lost.has(q.delivery.id) ? (dropped.push(q), false) : true));
    this.head = 0;
    return dropped;
  }

  /** No more admissions or starts; returns the waiting deliveries (still leased to this executor). */
  close(): Queued[] {
    this.closed = true;
    const left = this.waiting.slice(this.head);
    this.waiting = [];
    this.head = 0;
    return left;
  }
}
