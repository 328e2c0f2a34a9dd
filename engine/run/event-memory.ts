// Event bodies held in memory for deliveries that run here, bounded by bytes. Bodies live in the
// store; this keeps one for as long as local deliveries of its event wait or run, so a delivery
// leased at ingest runs without reading it back, and fan-out deliveries share one copy. Past the
// budget, a body is not kept and its deliveries read it from the store when they run; a
// delivery about to run waits (holding nothing) until its body fits, so a backlog of large
// events behind a stalled actor costs the budget, not the backlog's size. One body larger than
// the whole budget still runs, alone.

import type { OrgEvent } from '../../providers/types.js';

/**
 * What holding a body costs, in bytes: its JSON text and the parsed event, each about the size
 * of the text (one byte a character for the ASCII most events are made of).
 */
function cost(json: string): number {
  return 2 * json.length;
}

export interface HeldEvent {
  readonly event: OrgEvent;
  /** the event as stored: JSON.stringify(event) */
  readonly json: string;
}

interface Entry extends HeldEvent {
  bytes: number;
  /** local deliveries that will release this body */
  refs: number;
}

export class EventMemory {
  private readonly held = new Map<string, Entry>();
  private bytes = 0;
  /** deliveries waiting for room, oldest first; `bytes` is what each needs */
  private readonly waiters: Array<{ bytes: number; go: () => void }> = [];

  constructor(private readonly maxBytes: number) {}

  /** Bytes of the bodies held now (and promised to waiters that were let through). */
  get used(): number {
    return this.bytes;
  }

  get size(): number {
    return this.held.size;
  }

  /**
   * Keeps a just-stored event for `refs` local deliveries when it fits (each will call release);
   * false when it does not: those deliveries read it from the store when they run.
   */
  keep(event: OrgEvent, json: string, refs: number): boolean {
    const e = this.held.get(event.id);
    if (e) {
      e.refs += refs;
      return true;
    }
    if (this.waiters.length > 0 || !this.fits(cost(json))) return false;
    this.add(event.id, json, event, refs);
    return true;
  }

  /** The body held for a delivery that already has a reference to it (kept for it at ingest). */
  get(id: string): HeldEvent | undefined {
    return this.held.get(id);
  }

  /**
   * The body for a delivery about to run that holds no reference yet: the held one, or read
   * from the store once it fits. Null when the store no longer has the event.
   */
  async acquire(id: string, read: (id: string) => Promise<string | null>): Promise<HeldEvent | null> {
    const got = await this.load(id, read, 0);
    if (typeof got !== 'number') return got;
    // No room: wait until the body fits (its bytes are then promised to it) holding nothing but
    // its size, and read it again.
    await new Promise<void>((go) => this.waiters.push({ bytes: got, go }));
    const again = await this.load(id, read, got);
    return typeof again === 'number' ? null : again;
  }

  /**
   * The held body, or the body read and held when it fits (`promised`: bytes already counted for
   * it); otherwise how many bytes it needs. A separate call so that a waiting caller's frame
   * does not keep the body it could not hold.
   */
  private async load(id: string, read: (id: string) => Promise<string | null>, promised: number): Promise<Entry | null | number> {
    let e = this.shared(id);
    if (!e) {
      const json = await read(id);
      e = this.shared(id); // another delivery of the event loaded it meanwhile
      if (!e && json !== null) {
        if (promised) {
          this.bytes -= promised; // the promise becomes the held body
          return this.add(id, json);
        }
        if (this.waiters.length === 0 && this.fits(cost(json))) return this.add(id, json);
        return cost(json);
      }
    }
    if (promised) {
      this.bytes -= promised; // not needed after all: give it back
      this.admitWaiters();
    }
    return e ?? null;
  }

  /** One local delivery of the event finished (or left): the body goes with its last one. */
  release(id: string): void {
    const e = this.held.get(id);
    if (!e || --e.refs > 0) return;
    this.held.delete(id);
    this.bytes -= e.bytes;
    this.admitWaiters();
  }

  private fits(bytes: number): boolean {
    return this.bytes === 0 || this.bytes + bytes <= this.maxBytes;
  }

  /** the held body of an event, with one more reference */
  private shared(id: string): Entry | undefined {
    const e = this.held.get(id);
    if (e) e.refs++;
    return e;
  }

  private add(id: string, json: string, event: OrgEvent = JSON.parse(json) as OrgEvent, refs = 1): Entry {
    const e: Entry = { event, json, bytes: cost(json), refs };
    this.held.set(id, e);
    this.bytes += e.bytes;
    return e;
  }

  /** Lets waiting deliveries through, oldest first, while their bodies fit; their bytes are promised. */
  private admitWaiters(): void {
    while (this.waiters.length > 0 && this.fits(this.waiters[0]!.bytes)) {
      const w = this.waiters.shift()!;
      this.bytes += w.bytes;
      w.go();
    }
  }
}
