import { describe, expect, it } from 'vitest';
import { toSnapshot } from './snapshot.js';
import { diffSnapshots } from './diff.js';
import { mergeRefresh, refreshManaged } from './refresh.js';
import { projectOf, testKey, type MiniProject } from './test-helpers/project.js';
import type { StateSnapshot } from '../graph/types.js';
import type { ProviderBase } from '../../providers/types.js';
import type { RefreshedObject } from './types.js';

const base = (path = '/gh'): MiniProject => ({
  sources: [{ id: 'github', config: { path } }, { id: 'linear' }],
  actors: [{ id: 'eng' }],
  routes: [{ name: 'r', source: 'github', actor: 'eng' }],
});
const snap = (p: MiniProject) => toSnapshot(projectOf(p), { salt: 'salt', key: testKey }).snapshot;
const applied = (p: MiniProject): StateSnapshot => {
  const s = snap(p);
  s.resources['source.github'].provider_state = { hook_id: 1 };
  return s;
};
const deleted: RefreshedObject = { address: 'source.github', provider: 'webhook', status: 'deleted', differences: ['hook 1 is gone'] };
const edited: RefreshedObject = { address: 'source.github', provider: 'webhook', status: 'changed', differences: ['events: applied [a], now [b]'] };

describe('mergeRefresh', () => {
  it('plans a create for an object deleted outside orgloop and an update for one edited there', () => {
    const prior = applied(base());
    const desired = snap(base());
    expect(diffSnapshots(prior, desired, () => null).changes).toEqual([]);

    const recreate = mergeRefresh([], [deleted], prior, desired);
    expect(recreate.map((c) => [c.address, c.action, c.actions, c.reason])).toEqual([
      ['source.github', 'create', ['create'], 'deleted outside orgloop: hook 1 is gone'],
    ]);
    expect(recreate[0].before).toBe(prior.resources['source.github']);
    expect(recreate[0].after).toBe(desired.resources['source.github']);

    const repair = mergeRefresh([], [edited], prior, desired);
    expect(repair.map((c) => [c.action, c.reason, c.fields])).toEqual([['update', 'changed outside orgloop: events: applied [a], now [b]', []]]);
  });

  it('folds into what the configuration already changes', () => {
    const prior = applied(base());
    const desired = snap(base('/other'));
    const planned = diffSnapshots(prior, desired, () => null).changes;
    expect(planned.map((c) => c.action)).toEqual(['update']);
    // deleted: the update becomes a create (nothing is left to update)
    const recreated = mergeRefresh(planned, [deleted], prior, desired);
    expect(recreated.map((c) => [c.action, c.reason])).toEqual([['create', 'deleted outside orgloop: hook 1 is gone; also changed: config.path']]);
    // edited: still one update, whose reason names both
    const repaired = mergeRefresh(planned, [edited], prior, desired);
    expect(repaired.map((c) => [c.action, c.fields.length, c.reason])).toEqual([['update', 1, 'changed outside orgloop: events: applied [a], now [b]; also changed: config.path']]);
  });

  it('leaves an object the configuration removes to its delete, and ignores addresses it does not know', () => {
    const prior = applied(base());
    const p = base();
    p.sources = [{ id: 'linear' }];
    p.routes = [];
    const desired = snap(p);
    const planned = diffSnapshots(prior, desired, () => null).changes;
    const merged = mergeRefresh(planned, [deleted, { ...edited, address: 'source.nope' }], prior, desired);
    expect(merged).toEqual(planned);
  });
});

describe('refreshManaged', () => {
  const reader = (observed: { exists: boolean; differences?: string[] } | Error, calls: string[]): ProviderBase => ({
    kind: 'source',
    name: 'webhook',
    configSchema: {},
    create: async () => ({}),
    update: async () => ({}),
    read: async (ctx, prior) => {
      calls.push(`${ctx.name}:${JSON.stringify(prior)}`);
      if (observed instanceof Error) throw observed;
      return observed;
    },
  });

  it('reads only resources with provider state whose provider can read them back', async () => {
    const calls: string[] = [];
    const prior = applied(base());
    const found = await refreshManaged(prior, snap(base()), { providerFor: () => reader({ exists: false, differences: ['gone'] }, calls), env: () => undefined });
    expect(calls).toEqual(['github:{"hook_id":1}']);
    expect(found).toEqual([{ address: 'source.github', provider: 'webhook', status: 'deleted', differences: ['gone'] }]);

    const none: string[] = [];
    const readOnly = { ...reader({ exists: true }, none), create: undefined };
    expect(await refreshManaged(prior, snap(base()), { providerFor: () => readOnly, env: () => undefined })).toEqual([]);
    expect(await refreshManaged(prior, snap(base()), { providerFor: () => reader({ exists: true }, none), only: () => false })).toEqual([]);
    expect(await refreshManaged(prior, snap(base()), { providerFor: () => reader({ exists: true, differences: [] }, none), env: () => undefined })).toEqual([]);
    expect(none).toEqual(['github:{"hook_id":1}']);
  });

  it('a read that fails names the resource and suggests --refresh=false', async () => {
    const err = (await refreshManaged(applied(base()), snap(base()), { providerFor: () => reader(new Error('connect ECONNREFUSED'), []), env: () => undefined }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain('cannot refresh source.github: reading the webhook object it manages failed: connect ECONNREFUSED');
    expect(err.message).toContain('--refresh=false');
  });
});
