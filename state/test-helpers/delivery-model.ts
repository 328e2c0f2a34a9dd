// Model-based test of the delivery state machine against a real store (SQLite, Postgres): random
// sequences of ingest, claim, complete, fail (retry/dead), cancel, release, redrive, lease
// extension and clock jumps, by several owners, each step checked against a plain in-memory
// model and against the invariants after every step.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openStore } from '../open.js';
import type { Delivery, DeliveryStatus, Store } from '../store.js';
import { ingestItem } from '../sqlite/test-helpers/fixtures.js';
import type { Backend } from './contract.js';

interface ModelDelivery {
  status: DeliveryStatus;
  attempts: number;
  run_at: number;
  lease_owner: string | null;
  lease_until: number | null;
}

interface Model {
  now: number;
  ids: string[];
  rows: Map<string, ModelDelivery>;
}

interface Real {
  store: Store;
  clock: { now: number };
  /** last observed row per id, for the monotonicity invariants */
  prev: Map<string, Delivery>;
  redriven: Set<string>;
}

const OWNERS = ['A', 'B', 'C'] as const;
const LEASE_MS = 1000;

/** index < 0 aims at a leased row (where fencing matters), otherwise at any row */
function pick(m: Model, index: number): string | undefined {
  const leased = m.ids.filter((id) => m.rows.get(id)!.status === 'leased');
  const pool = index < 0 && leased.length ? leased : m.ids;
  return pool.length ? pool[Math.abs(index) % pool.length] : undefined;
}

async function checkInvariants(m: Model, r: Real): Promise<void> {
  const rows = await r.store.deliveries({});
  expect(rows).toHaveLength(m.ids.length);
  for (const d of rows) {
    const want = m.rows.get(d.id)!;
    // one status, the one the model predicts
    expect(d.status).toBe(want.status);
    expect(d.attempts).toBe(want.attempts);
    if (d.status === 'leased') {
      expect(d.lease_owner).toBe(want.lease_owner);
      expect(d.lease_until).toBe(want.lease_until);
    } else {
      expect(d.lease_until).toBeNull();
    }
    if (d.status === 'pending' || d.status === 'retry') expect(d.run_at).toBe(want.run_at);
    const before = r.prev.get(d.id);
    if (before) {
      if (before.status === 'delivered') expect(d.status).toBe('delivered');
      if (!r.redriven.has(d.id)) expect(d.attempts).toBeGreaterThanOrEqual(before.attempts);
    }
    r.prev.set(d.id, d);
  }
  r.redriven.clear();
}

type Cmd = fc.AsyncCommand<Model, Real>;

class Ingest implements Cmd {
  constructor(readonly routes: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const item = ingestItem({ routes: Array.from({ length: this.routes }, (_, i) => `r${i}`) });
    await r.store.ingest([item]);
    for (const d of item.deliveries) {
      m.ids.push(d.id);
      m.rows.set(d.id, { status: 'pending', attempts: 0, run_at: m.now, lease_owner: null, lease_until: null });
    }
    await checkInvariants(m, r);
  }
  toString = () => `ingest(${this.routes})`;
}

class Claim implements Cmd {
  constructor(
    readonly owner: string,
    readonly limit: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const expired = [...m.rows].filter(([, d]) => d.status === 'leased' && d.lease_until! < m.now);
    const due = [...m.rows].filter(([, d]) => (d.status === 'pending' || d.status === 'retry') && d.run_at <= m.now);
    const got = await r.store.claim(this.owner, this.limit, LEASE_MS);
    expect(got).toHaveLength(Math.min(this.limit, expired.length + due.length));
    const expiredIds = new Set(expired.map(([id]) => id));
    const dueIds = new Set(due.map(([id]) => id));
    // abandoned leases are taken before fresh work, and due work in run_at order
    expect(got.filter((d) => expiredIds.has(d.id))).toHaveLength(Math.min(this.limit, expired.length));
    const dueTaken = got.filter((d) => dueIds.has(d.id));
    const maxTaken = Math.max(-Infinity, ...dueTaken.map((d) => m.rows.get(d.id)!.run_at));
    for (const [id, d] of due) if (d.run_at < maxTaken) expect(dueTaken.some((t) => t.id === id)).toBe(true);
    for (const d of got) {
      expect(expiredIds.has(d.id) || dueIds.has(d.id)).toBe(true);
      const row = m.rows.get(d.id)!;
      row.status = 'leased';
      row.attempts += 1;
      row.lease_owner = this.owner;
      row.lease_until = m.now + LEASE_MS;
    }
    await checkInvariants(m, r);
  }
  toString = () => `claim(${this.owner}, ${this.limit})`;
}

function holds(d: ModelDelivery, owner: string): boolean {
  return d.status === 'leased' && d.lease_owner === owner;
}

class Complete implements Cmd {
  constructor(
    readonly owner: string,
    readonly index: number,
  ) {}
  check = (m: Readonly<Model>) => m.ids.length > 0;
  async run(m: Model, r: Real) {
    const id = pick(m, this.index)!;
    const row = m.rows.get(id)!;
    const expected = holds(row, this.owner);
    expect(await r.store.complete(id, this.owner)).toBe(expected);
    if (expected) {
      row.status = 'delivered';
      row.lease_until = null;
    }
    await checkInvariants(m, r);
  }
  toString = () => `complete(${this.owner}, #${this.index})`;
}

class Fail implements Cmd {
  constructor(
    readonly owner: string,
    readonly index: number,
    readonly next: number | 'dead',
  ) {}
  check = (m: Readonly<Model>) => m.ids.length > 0;
  async run(m: Model, r: Real) {
    const id = pick(m, this.index)!;
    const row = m.rows.get(id)!;
    const expected = holds(row, this.owner);
    const next = this.next === 'dead' ? 'dead' : { runAt: m.now + this.next };
    expect(await r.store.fail(id, this.owner, 'boom', next)).toBe(expected);
    if (expected) {
      row.lease_until = null;
      if (next === 'dead') row.status = 'dead';
      else {
        row.status = 'retry';
        row.run_at = next.runAt;
      }
    }
    await checkInvariants(m, r);
  }
  toString = () => `fail(${this.owner}, #${this.index}, ${this.next})`;
}

class Extend implements Cmd {
  constructor(
    readonly owner: string,
    readonly index: number,
  ) {}
  check = (m: Readonly<Model>) => m.ids.length > 0;
  async run(m: Model, r: Real) {
    const id = pick(m, this.index)!;
    const row = m.rows.get(id)!;
    const lost = await r.store.extendLeases(this.owner, [id], LEASE_MS);
    expect(lost).toEqual(holds(row, this.owner) ? [] : [id]);
    if (holds(row, this.owner)) row.lease_until = m.now + LEASE_MS;
    await checkInvariants(m, r);
  }
  toString = () => `extend(${this.owner}, #${this.index})`;
}

class Cancel implements Cmd {
  constructor(readonly index: number) {}
  check = (m: Readonly<Model>) => m.ids.length > 0;
  async run(m: Model, r: Real) {
    const id = pick(m, this.index)!;
    const row = m.rows.get(id)!;
    const expected = row.status === 'pending' || row.status === 'retry' || row.status === 'leased';
    expect(await r.store.cancel(id, 'route removed')).toBe(expected);
    if (expected) {
      row.status = 'cancelled';
      row.lease_until = null;
    }
    await checkInvariants(m, r);
  }
  toString = () => `cancel(#${this.index})`;
}

class Redrive implements Cmd {
  constructor(readonly index: number) {}
  check = (m: Readonly<Model>) => m.ids.length > 0;
  async run(m: Model, r: Real) {
    const id = pick(m, this.index)!;
    const row = m.rows.get(id)!;
    const expected = row.status === 'dead' || row.status === 'cancelled';
    expect(await r.store.redrive(id)).toBe(expected);
    if (expected) {
      Object.assign(row, { status: 'pending', attempts: 0, run_at: m.now, lease_owner: null, lease_until: null });
      r.redriven.add(id);
    }
    await checkInvariants(m, r);
  }
  toString = () => `redrive(#${this.index})`;
}

class ReleaseAll implements Cmd {
  constructor(readonly owner: string) {}
  check = () => true;
  async run(m: Model, r: Real) {
    let expected = 0;
    for (const row of m.rows.values()) {
      if (!holds(row, this.owner)) continue;
      expected++;
      Object.assign(row, { status: 'pending', run_at: m.now, lease_owner: null, lease_until: null });
    }
    expect(await r.store.releaseAll(this.owner)).toBe(expected);
    await checkInvariants(m, r);
  }
  toString = () => `releaseAll(${this.owner})`;
}

class Tick implements Cmd {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    m.now += this.ms;
    r.clock.now = m.now;
    await checkInvariants(m, r);
  }
  toString = () => `tick(${this.ms})`;
}

const owner = fc.constantFrom(...OWNERS);
const index = fc.integer({ min: -50, max: 50 });
const commands = [
  fc.integer({ min: 1, max: 3 }).map((n) => new Ingest(n)),
  fc.tuple(owner, fc.integer({ min: 1, max: 4 })).map(([o, l]) => new Claim(o, l)),
  fc.tuple(owner, index).map(([o, i]) => new Complete(o, i)),
  fc.tuple(owner, index, fc.oneof(fc.constant('dead' as const), fc.integer({ min: 0, max: 2000 }))).map(
    ([o, i, n]) => new Fail(o, i, n),
  ),
  fc.tuple(owner, index).map(([o, i]) => new Extend(o, i)),
  index.map((i) => new Cancel(i)),
  index.map((i) => new Redrive(i)),
  owner.map((o) => new ReleaseAll(o)),
  fc.oneof(fc.integer({ min: 1, max: 600 }), fc.constant(LEASE_MS), fc.constant(LEASE_MS + 1)).map((ms) => new Tick(ms)),
];

export function describeDeliveryModel(backend: Backend, numRuns: number): void {
  describe(`delivery state machine (model-based, real ${backend.name})`, () => {
    it('matches the model and keeps its invariants after every step', async () => {
      await fc.assert(
        fc.asyncProperty(fc.commands(commands, { maxCommands: 60 }), async (cmds) => {
          const clock = { now: 1_000_000 };
          const store = await openStore(await backend.newLocation(), { clock: () => clock.now });
          try {
            await fc.asyncModelRun(
              () => ({
                model: { now: clock.now, ids: [], rows: new Map() },
                real: { store, clock, prev: new Map(), redriven: new Set() },
              }),
              cmds,
            );
          } finally {
            await store.close();
          }
        }),
        { numRuns },
      );
    }, 120_000);
  });
}
