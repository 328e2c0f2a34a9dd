// applyPlan against a real SQLite store, with a provider that has lifecycle hooks.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../state/open.js';
import type { Store } from '../../state/store.js';
import type { ProviderBase } from '../../providers/types.js';
import { substitute } from '../config/env.js';
import { planFromProject } from '../plan/plan.js';
import { diffSnapshots } from '../plan/diff.js';
import { projectOf, testKey, type MiniProject } from '../plan/test-helpers/project.js';
import { applyPlan, ApplyError, type ApplyOptions } from './apply.js';
import { acquireLock, LockError } from './lock.js';

async function freshStore(): Promise<Store> {
  return openStore(join(mkdtempSync(join(tmpdir(), 'orgloop-apply-')), 'state.db'));
}

/** A source provider that "registers" an external object per source and records every call. */
function hookedProvider(calls: string[], failOn = new Set<string>()): ProviderBase {
  return {
    kind: 'source',
    name: 'hooked',
    configSchema: {},
    async create(ctx) {
      calls.push(`create ${ctx.name} token=${String(ctx.config.token)}`);
      if (failOn.has(`create ${ctx.name}`)) throw new Error(`remote refused ${ctx.name}`);
      return { remote_id: `hook-${ctx.name}` };
    },
    async update(ctx, prior) {
      calls.push(`update ${ctx.name} ${String(prior.remote_id)}`);
      return { ...prior, updated: true };
    },
    async delete(ctx, prior) {
      calls.push(`delete ${ctx.name} ${String(prior.remote_id)}`);
      if (failOn.has(`delete ${ctx.name}`)) throw new Error(`cannot delete ${ctx.name}`);
    },
  };
}

const hints = { sensitive: () => undefined, replaceOn: () => undefined };

function opts(p: ProviderBase): ApplyOptions {
  return {
    who: 'test',
    providerFor: (kind, name) => (kind === 'source' && name === 'hooked' ? p : undefined),
    env: (n) => ({ TOKEN: 'tok-value' })[n],
    substitute,
  };
}

const proj = (ids: string[], routes: Array<[string, string]>): MiniProject => ({
  sources: ids.map((id) => ({ id, connector: 'hooked', config: { token: 'tok-value' }, templates: { 'config.token': '${TOKEN}' } })),
  actors: [{ id: 'eng' }],
  routes: routes.map(([name, source]) => ({ name, source, actor: 'eng' })),
});

describe('applyPlan', () => {
  it('calls hooks with resolved secrets, stores provider_state, and carries it over', async () => {
    const store = await freshStore();
    const calls: string[] = [];
    const p = hookedProvider(calls);
    const plan = await planFromProject(store, projectOf(proj(['a', 'b'], [['ra', 'a']])), { hints, stateKey: testKey });
    const r = await applyPlan(store, plan, opts(p));
    expect(r.version?.serial).toBe(1);
    expect(calls).toEqual(['create a token=tok-value', 'create b token=tok-value']);
    const v1 = (await store.current())!;
    expect(v1.snapshot.resources['source.a'].provider_state).toEqual({ remote_id: 'hook-a' });
    expect(JSON.stringify(v1)).not.toContain('tok-value');

    // route change only: no hook calls, provider_state carried over unchanged
    calls.length = 0;
    const plan2 = await planFromProject(store, projectOf(proj(['a', 'b'], [['ra', 'b']])), { hints, stateKey: testKey });
    await applyPlan(store, plan2, opts(p));
    expect(calls).toEqual([]);
    expect((await store.current())!.snapshot.resources['source.a'].provider_state).toEqual({ remote_id: 'hook-a' });

    // remove a source and its routes: route removed before the source's delete hook runs
    const plan3 = await planFromProject(store, projectOf(proj(['a'], [])), { hints, stateKey: testKey });
    await applyPlan(store, plan3, opts(p));
    expect(calls).toEqual(['delete b hook-b']);
    expect(Object.keys((await store.current())!.snapshot.resources).sort()).toEqual(['actor.eng', 'source.a']);
    await store.close();
  });

  it('records partial progress when a hook fails and skips what depends on the failure', async () => {
    const store = await freshStore();
    const calls: string[] = [];
    const p = hookedProvider(calls, new Set(['create b']));
    const plan = await planFromProject(store, projectOf(proj(['a', 'b'], [['ra', 'a'], ['rb', 'b']])), { hints, stateKey: testKey });
    const err = await applyPlan(store, plan, opts(p)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplyError);
    const e = err as ApplyError;
    expect(e.message).toContain('source.b (create): remote refused b');
    expect(e.message).toContain('Skipped because something they depend on failed: route.rb');
    expect(e.message).toContain('recorded as serial 1');
    const v = (await store.current())!;
    expect(Object.keys(v.snapshot.resources).sort()).toEqual(['actor.eng', 'route.ra', 'source.a']);
    expect(v.message).toBe('(partial: 1 failed)');
    expect(v.summary).toEqual({ add: 3, change: 0, destroy: 0 });

    // the next plan shows exactly what remains
    const next = await planFromProject(store, projectOf(proj(['a', 'b'], [['ra', 'a'], ['rb', 'b']])), { hints, stateKey: testKey });
    expect(next.changes.map((c) => `${c.action} ${c.address}`)).toEqual(['create source.b', 'create route.rb']);
    await store.close();
  });

  it('keeps a resource whose delete failed, and what it still needs', async () => {
    const store = await freshStore();
    const calls: string[] = [];
    await applyPlan(store, await planFromProject(store, projectOf(proj(['a', 'b'], [])), { hints, stateKey: testKey }), opts(hookedProvider(calls)));
    const failing = hookedProvider(calls, new Set(['delete b']));
    const err = await applyPlan(store, await planFromProject(store, projectOf(proj(['a'], [])), { hints, stateKey: testKey }), opts(failing)).catch((x: unknown) => x);
    expect((err as ApplyError).message).toContain('source.b (delete): cannot delete b');
    expect((err as ApplyError).message).toContain('Nothing was recorded: no change succeeded.');
    expect(Object.keys((await store.current())!.snapshot.resources)).toContain('source.b');
    expect((await store.meta()).serial).toBe(1);
    await store.close();
  });

  it('refuses a plan from another state or an older serial', async () => {
    const store = await freshStore();
    const other = await freshStore();
    const plan = await planFromProject(other, projectOf(proj(['a'], [])), { hints, stateKey: testKey });
    await expect(applyPlan(store, plan, opts(hookedProvider([])))).rejects.toThrow(/made for a different state/);
    const mine = await planFromProject(store, projectOf(proj(['a'], [])), { hints, stateKey: testKey });
    await applyPlan(store, await planFromProject(store, projectOf(proj(['a', 'b'], [])), { hints, stateKey: testKey }), opts(hookedProvider([])));
    await expect(applyPlan(store, mine, opts(hookedProvider([])))).rejects.toMatchObject({ exitCode: 4, reason: 'stale' });
    await store.close();
    await other.close();
  });
});

describe('applyPlan applies the plan as recorded', () => {
  it('runs exactly the recorded changes, refresh repairs included', async () => {
    const store = await freshStore();
    const calls: string[] = [];
    await applyPlan(store, await planFromProject(store, projectOf(proj(['a'], [])), { hints, stateKey: testKey }), opts(hookedProvider(calls)));
    // the same configuration, but refresh found source.a deleted outside orgloop: one create
    const plan = await planFromProject(store, projectOf(proj(['a'], [])), { hints, stateKey: testKey });
    expect(plan.changes).toEqual([]);
    const refreshed = diffSnapshots((await store.current())!.snapshot, plan.desired, () => null, {
      lineage: plan.lineage,
      serial: plan.serial,
      refreshed: [{ address: 'source.a', provider: 'hooked', status: 'deleted', differences: ['hook-a is gone'] }],
    });
    expect(refreshed.changes.map((c) => [c.action, c.address, c.reason])).toEqual([['create', 'source.a', 'deleted outside orgloop: hook-a is gone']]);
    expect(refreshed.summary).toMatchObject({ add: 1, change: 0, destroy: 0, unchanged: 1 });
    calls.length = 0;
    await applyPlan(store, refreshed, opts(hookedProvider(calls)));
    expect(calls).toEqual(['create a token=tok-value']);
    await store.close();
  });

  it('refuses a plan whose changes or snapshot were edited after it was made', async () => {
    const store = await freshStore();
    const plan = await planFromProject(store, projectOf(proj(['a', 'b'], [])), { hints, stateKey: testKey });
    const edited = structuredClone(plan);
    delete edited.desired.resources['source.b'];
    await expect(applyPlan(store, edited, opts(hookedProvider([])))).rejects.toThrow(/does not hold together \(its snapshot does not match its config digest\)/);
    const dropped = { ...plan, changes: [...plan.changes, { ...plan.changes[0]!, action: 'delete' as const, address: 'source.zz' }] };
    await expect(applyPlan(store, dropped, opts(hookedProvider([])))).rejects.toThrow(/delete source\.zz does not fit/);
    expect((await store.meta()).serial).toBe(0);
    await store.close();
  });
});

describe('state lock', () => {
  it('waits for the holder up to the timeout, then names it', async () => {
    const store = await freshStore();
    const first = await acquireLock(store, { operation: 'apply', who: 'one', timeoutMs: 0 });
    const err = await acquireLock(store, { operation: 'apply', who: 'two', timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockError);
    expect((err as LockError).exitCode).toBe(3);
    expect((err as LockError).message).toContain(`ID:        ${first.info.id}`);
    // released while the second waits: the second gets it
    const waiting = acquireLock(store, { operation: 'apply', who: 'two', timeoutMs: 5000 });
    setTimeout(() => void first.release(), 200);
    const second = await waiting;
    expect((await store.lockHolder())?.who).toBe('two');
    await second.release();
    expect(await store.lockHolder()).toBeNull();
    await store.close();
  });

  it('takes over a lock whose heartbeat stopped', async () => {
    const store = await freshStore();
    const old = new Date(Date.now() - 10 * 60_000).toISOString();
    await store.tryLock({ id: 'ghost', operation: 'apply', who: 'gone@far', host: 'another-host', pid: 1, created_at: old, heartbeat_at: old });
    const warnings: string[] = [];
    const lock = await acquireLock(store, { operation: 'apply', who: 'me', timeoutMs: 0, warn: (w) => warnings.push(w) });
    expect(warnings).toEqual([expect.stringMatching(/^took over the state lock ghost held by gone@far \(no heartbeat for 10m/)]);
    await lock.release();
    await store.close();
  });
});
