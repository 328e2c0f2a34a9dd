// Schedule-driven and polling sources. Cron: the last fire time is kept in the store, so a
// restart neither skips a tick (a tick missed during downtime fires once on start) nor doubles
// one (dedupe_key = scheduled time). A source in OrgLoop's `schedules` shape also fires each
// schedule once at its first start against the store, as OrgLoop does with no checkpoint. Polling: one poller per source across executors, by lease;
// cursor, events and deliveries are committed in one transaction fenced by the lease term.
//
// Poll timing: each polling source has a fixed phase within its interval, derived from its id
// (the same on every executor), and polls on the grid phase + k * interval of the wall clock.
// Thousands of sources with the same interval therefore spread evenly over it instead of firing
// in the same second, and a slow poll does not make the schedule drift. The first poll after a
// start (or a config change) comes within min(interval, 5 s), also spread by the phase; the next
// one is the first grid slot at least half an interval later, so the first gap is between half
// and one and a half intervals, and every later gap is one interval.
//
// Phases are rounded down to whole seconds (POLL_SLOT_MS) and the polls due in the same slot
// wait on one timer, so they share a wake-up and send their requests together. On an idle
// executor a wake-up costs more than the requests it sends: 2,000 sources on a minute wake the
// process 60 times a minute instead of 2,000 (figures: docs/performance.md).

import type { LogEntry } from '../../providers/types.js';
import type { Coordination, PollCursors, TransformState } from '../../state/store.js';
import type { Graph, RuntimeSource } from './graph.js';
import type { Intake } from './intake.js';

interface Job {
  source: RuntimeSource;
  timer: NodeJS.Timeout | null;
  /** polling: the slot (epoch ms) this job waits in, if any */
  slot: number | null;
  running: boolean;
  stopped: boolean;
  /** polling: the lease this executor holds (expiry by the local clock) and the cursor as last committed under it */
  tenure: Tenure | null;
}

interface Tenure {
  term: number;
  /** the lease's length; renewed once a third of it has run */
  ttl: number;
  until: number;
  cursor?: { cursor: string | null; etag: string | null };
}

export interface SchedulerDeps {
  /** poll leases, cursors, and cron's last fire times */
  store: Pick<Coordination, 'acquireLease' | 'releaseLease' | 'renewLeases'> & PollCursors & Pick<TransformState, 'kvGet' | 'kvSet'>;
  owner: string;
  intake: Intake;
  log(e: LogEntry): void;
  graph(): Graph;
  /**
   * Shortest poll lease (ms): after a crash, the dead poller's sources wait this long before
   * another executor takes them over (settings.pollLeaseMs).
   */
  minPollLeaseMs: number;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
/** The first poll after a start comes within this long (or the interval, if shorter). */
const FIRST_POLL_SPREAD_MS = 5_000;

/** A stable fraction in [0, 1) for a source id: its phase within the poll interval. */
export function pollPhase(id: string): number {
  // FNV-1a, then murmur3's finaliser: ids differing in the last character (gh-1, gh-2, ...) must
  // land far apart, which FNV alone does not do well in its high bits.
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

/** Delay until the first poll after a start: the phase scaled to min(interval, 5 s). */
export function firstPollDelay(id: string, intervalMs: number): number {
  return Math.floor(pollPhase(id) * Math.min(intervalMs, FIRST_POLL_SPREAD_MS));
}

/** Polls are due on whole multiples of this (or of the interval, if shorter), so they share wake-ups. */
export const POLL_SLOT_MS = 1_000;

/** The source's offset within its interval, ms: its phase rounded down to a whole slot. */
export function pollOffset(id: string, intervalMs: number): number {
  const slot = Math.min(POLL_SLOT_MS, intervalMs);
  return Math.floor((pollPhase(id) * intervalMs) / slot) * slot;
}

/** The first time on the source's grid (offset + k * interval, epoch ms) at or after `notBefore`. */
export function nextPollSlot(id: string, intervalMs: number, notBefore: number): number {
  const phase = pollOffset(id, intervalMs);
  return phase + Math.ceil((notBefore - phase) / intervalMs) * intervalMs;
}

/** Where the last fire time of a cron source is kept (status reads it to show the next one). */
export const cronKey = (id: string) => `cron:${id}:last_fire`;

export class Scheduler {
  private jobs = new Map<string, Job>();
  /** renews every poll lease this executor holds, in bulk (see renewLeases) */
  private renewTimer: NodeJS.Timeout | null = null;
  private renewing = false;
  /** polls due at the same instant wait on one timer (epoch ms -> jobs); stopped jobs are skipped when it fires */
  private slots = new Map<number, { timer: NodeJS.Timeout; jobs: Job[] }>();

  constructor(private readonly d: SchedulerDeps) {}

  /** Starts jobs for sources of a new graph; restarts those whose config changed; stops removed ones. */
  sync(graph: Graph): void {
    const want = new Map<string, RuntimeSource>();
    for (const s of graph.sources.values()) if (s.provider.nextFire || (s.pollIntervalMs !== null && s.provider.poll)) want.set(s.id, s);
    for (const [id, job] of this.jobs) {
      const next = want.get(id);
      if (!next || JSON.stringify(next.ctx.config) !== JSON.stringify(job.source.ctx.config) || next.pollIntervalMs !== job.source.pollIntervalMs || next.provider !== job.source.provider) {
        this.stopJob(job);
        this.jobs.delete(id);
        if (job.source.pollIntervalMs !== null) void this.d.store.releaseLease(`source:${id}`, this.d.owner).catch(() => {});
      }
    }
    for (const [id, src] of want) {
      if (this.jobs.has(id)) {
        this.jobs.get(id)!.source = src; // same config: keep timing, use the new context
        continue;
      }
      const job: Job = { source: src, timer: null, slot: null, running: false, stopped: false, tenure: null };
      this.jobs.set(id, job);
      if (src.provider.nextFire) void this.cronStart(job);
      else this.schedule(job, firstPollDelay(id, src.pollIntervalMs ?? 60_000), () => this.pollOnce(job));
    }
  }

  async stop(): Promise<void> {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
    for (const slot of this.slots.values()) clearTimeout(slot.timer);
    this.slots.clear();
    for (const job of this.jobs.values()) this.stopJob(job);
    const releases = [...this.jobs.values()]
      .filter((j) => j.source.pollIntervalMs !== null)
      .map((j) => this.d.store.releaseLease(`source:${j.source.id}`, this.d.owner).catch(() => {}));
    this.jobs.clear();
    await Promise.all(releases);
  }

  private stopJob(job: Job): void {
    job.stopped = true;
    if (job.timer) clearTimeout(job.timer);
    job.timer = null;
    job.slot = null;
  }

  private schedule(job: Job, delayMs: number, fn: () => Promise<void>): void {
    if (job.stopped) return;
    const wait = Math.max(0, Math.min(delayMs, MAX_TIMER_MS));
    job.timer = setTimeout(() => {
      job.timer = null;
      this.run(job, fn);
    }, wait);
    job.timer.unref?.();
  }

  /** Queues a poll for the slot at `at` (epoch ms), sharing that slot's timer with every other poll due then. */
  private schedulePoll(job: Job, at: number): void {
    if (job.stopped) return;
    let slot = this.slots.get(at);
    if (!slot) {
      const timer = setTimeout(() => this.fireSlot(at), Math.max(0, Math.min(at - Date.now(), MAX_TIMER_MS)));
      timer.unref?.();
      this.slots.set(at, (slot = { timer, jobs: [] }));
    }
    slot.jobs.push(job);
    job.slot = at;
  }

  private fireSlot(at: number): void {
    const slot = this.slots.get(at);
    this.slots.delete(at);
    for (const job of slot?.jobs ?? []) {
      if (job.slot !== at) continue;
      job.slot = null;
      this.run(job, () => this.pollOnce(job));
    }
  }

  private run(job: Job, fn: () => Promise<void>): void {
    if (job.stopped) return;
    job.running = true;
    fn()
      .catch((err) => this.warn(job, `scheduler error: ${(err as Error).message}`))
      .finally(() => {
        job.running = false;
      });
  }

  private warn(job: Job, message: string, data?: Record<string, unknown>): void {
    this.d.log({ time: new Date().toISOString(), phase: 'source.error', level: 'warn', source: job.source.id, message, data });
  }

  // ---- cron ----

  private async cronStart(job: Job): Promise<void> {
    const { store } = this.d;
    const src = job.source;
    let last: Date;
    try {
      const stored = await store.kvGet(cronKey(src.id));
      last = stored ? new Date(stored) : new Date();
      if (!stored) {
        const first = src.provider.firstStart?.(src.ctx, last) ?? [];
        if (first.length) {
          // The first start fires once per source in the store: under the cron lease, recorded
          // by the same last-fire key. An executor without the lease waits until the holder has
          // recorded it (or its lease lapses), so a holder dying mid-way does not lose the fire.
          if ((await store.acquireLease(`cron:${src.id}`, this.d.owner, Math.max(this.d.minPollLeaseMs, 30_000))) === null) {
            this.schedule(job, 5000, () => this.cronStart(job));
            return;
          }
          const graph = this.d.graph();
          await this.d.intake.submit(first.map((e) => this.d.intake.prepare(graph, src.id, e)));
        }
        await store.kvSet(cronKey(src.id), last.toISOString());
      }
    } catch (err) {
      this.warn(job, `could not read the last fire time: ${(err as Error).message}; retrying in 5 s`);
      this.schedule(job, 5000, () => this.cronStart(job));
      return;
    }
    this.cronNext(job, last);
  }

  private cronNext(job: Job, after: Date): void {
    let next: Date | null;
    try {
      next = job.source.provider.nextFire!(job.source.ctx, after);
    } catch (err) {
      this.warn(job, `invalid schedule: ${(err as Error).message}`);
      return;
    }
    if (!next) return;
    this.schedule(job, next.getTime() - Date.now(), () => this.cronFire(job, next!));
  }

  private async cronFire(job: Job, at: Date): Promise<void> {
    const src = job.source;
    const graph = this.d.graph();
    try {
      // one executor fires each tick: the holder of the source's cron lease (the dedupe key
      // still makes a double impossible if a takeover races a slow holder)
      if ((await this.d.store.acquireLease(`cron:${src.id}`, this.d.owner, Math.max(this.d.minPollLeaseMs, 30_000))) === null) {
        this.cronNext(job, at);
        return;
      }
      const emitted = src.provider.fire!(src.ctx, at);
      const list = Array.isArray(emitted) ? emitted : [emitted];
      if (list.length) await this.d.intake.submit(list.map((e) => this.d.intake.prepare(graph, src.id, e)));
      await this.d.store.kvSet(cronKey(src.id), at.toISOString());
    } catch (err) {
      // Not recorded: try the same tick again shortly (dedupe_key makes a double impossible).
      this.warn(job, `could not record the tick at ${at.toISOString()}: ${(err as Error).message}; retrying in 5 s`);
      this.schedule(job, 5000, () => this.cronFire(job, at));
      return;
    }
    // Ticks missed while we were down or busy fire once, not once per missed tick.
    const now = new Date();
    this.cronNext(job, now.getTime() > at.getTime() ? new Date(Math.max(at.getTime(), now.getTime() - 1)) : at);
  }

  // ---- polling ----

  /** Takes (or renews) the source's poll lease; the tenure is null when another executor holds it. */
  private async lease(job: Job, ttl: number): Promise<Tenure | null> {
    const asked = Date.now();
    const term = await this.d.store.acquireLease(`source:${job.source.id}`, this.d.owner, ttl);
    // the same term is an unbroken tenure: nobody else can have committed a cursor meanwhile
    if (term === null || term !== job.tenure?.term) job.tenure = term === null ? null : { term, ttl, until: asked + ttl };
    else job.tenure.until = asked + ttl;
    if (job.tenure && !this.renewTimer) {
      this.renewTimer = setInterval(() => void this.renewAll(), Math.floor(this.d.minPollLeaseMs / 6));
      this.renewTimer.unref();
    }
    return job.tenure;
  }

  /**
   * Every poll lease held is renewed here, all in one store transaction, once a third of it has
   * run: idle polls are spread over their interval, so renewing from each poll would be a write
   * transaction (and an fsync) every few polls. A lease the store no longer grants us under our
   * term (taken over after we stalled past its expiry) drops the tenure: the next poll asks for
   * the lease again and polls only if it gets it, and a commit under a lost term is refused anyway.
   */
  private async renewAll(): Promise<void> {
    if (this.renewing) return;
    const now = Date.now();
    const due = new Map<number, Array<{ job: Job; tenure: Tenure }>>();
    for (const job of this.jobs.values()) {
      const t = job.tenure;
      if (!t || job.stopped || t.until - now > (t.ttl * 2) / 3) continue;
      let group = due.get(t.ttl);
      if (!group) due.set(t.ttl, (group = []));
      group.push({ job, tenure: t });
    }
    if (due.size === 0) return;
    this.renewing = true;
    try {
      for (const [ttl, group] of due) {
        const asked = Date.now();
        let lost: Set<string>;
        try {
          lost = new Set(await this.d.store.renewLeases(this.d.owner, group.map((g) => ({ name: `source:${g.job.source.id}`, term: g.tenure.term })), ttl));
        } catch (err) {
          // keep the tenures: a poll that finds its lease short asks for it itself
          this.d.log({ time: new Date().toISOString(), phase: 'source.error', level: 'warn', message: `could not renew ${group.length} poll leases: ${(err as Error).message}` });
          continue;
        }
        for (const { job, tenure } of group) {
          if (job.tenure !== tenure) continue; // re-acquired or dropped meanwhile
          if (lost.has(`source:${job.source.id}`)) job.tenure = null;
          else tenure.until = asked + ttl;
        }
      }
    } finally {
      this.renewing = false;
    }
  }

  private async pollOnce(job: Job): Promise<void> {
    const { store, intake } = this.d;
    const src = job.source;
    const interval = src.pollIntervalMs ?? 60_000;
    const leaseTtl = Math.max(this.d.minPollLeaseMs, interval * 3);
    const started = Date.now();
    let notBefore = started + interval / 2;
    try {
      // The lease is renewed in bulk (renewAll), which also keeps it while a long poll runs; a
      // poll asks for it itself only when it has none or it is running short. Safe because the
      // lease is the store's, not ours: a commit under a lost lease is refused by its term.
      let tenure = job.tenure && job.tenure.until - started > leaseTtl / 3 ? job.tenure : await this.lease(job, leaseTtl);
      if (tenure === null) return; // another executor polls this source; check again next interval
      const term = tenure.term;
      if (!tenure.cursor) {
        const stored = await store.cursor(src.id);
        tenure.cursor = stored ? { cursor: stored.cursor, etag: stored.etag } : undefined;
      }
      const cur = tenure.cursor ?? null;
      const result = await src.provider.poll!(src.pollContext(), cur?.cursor ?? null, cur?.etag ?? null);
      // Nothing new and the cursor unchanged (the common idle poll): there is nothing to make
      // durable, so skip the write transaction. The stored cursor's updated_at is then the time
      // it last moved.
      const unchanged = cur !== null && result.events.length === 0 && result.cursor === cur.cursor && (result.etag ?? null) === cur.etag;
      if (!unchanged) {
        const graph = this.d.graph();
        const prepared = result.events.map((e) => intake.prepare(graph, src.id, e));
        const { ok, results } = await store.commitPoll(src.id, term, result.cursor, result.etag ?? null, prepared.map((p) => p.item));
        if (!ok) {
          job.tenure = null;
          this.warn(job, 'lost the poll lease before committing; the new holder will poll again');
          return;
        }
        tenure = job.tenure;
        if (tenure?.term === term) tenure.cursor = { cursor: result.cursor, etag: result.etag ?? null };
        intake.committed(prepared, results);
      }
      // a debug entry per answered poll: what the poll-lag metric counts from
      this.d.log({ time: new Date().toISOString(), phase: 'source.poll', level: 'debug', source: src.id, message: `polled ${src.id}: ${result.events.length} new`, data: { events: result.events.length } });
      if (result.retryAfterMs !== undefined) notBefore = Math.max(notBefore, Date.now() + result.retryAfterMs);
    } catch (err) {
      if (job.tenure) job.tenure.cursor = undefined; // not known what became durable: read it again
      this.warn(job, `poll failed: ${(err as Error).message}`);
    } finally {
      // a poll that ran past its next slot waits for the first slot after its end
      this.schedulePoll(job, nextPollSlot(src.id, interval, Math.max(notBefore, Date.now())));
    }
  }
}
