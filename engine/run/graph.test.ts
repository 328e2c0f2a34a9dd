import { describe, expect, it } from 'vitest';
import type { Provider, ProviderContext, ProviderKind } from '../../providers/types.js';
import { buildGraph, freshContext, GraphError } from './graph.js';
import { getProvider } from '../../providers/registry.js';

describe('freshContext (a polling source secrets, resolved on each poll)', () => {
  const base = { config: {} } as unknown as ProviderContext;
  const raw = { repo: 'o/r', token: { $secret: { template: '${TOKEN}', hash: 'h' } } };

  it('keeps the same context while the values are unchanged, and a new one once they change', () => {
    let token = 'one';
    const ctx = freshContext(base, raw, () => (t) => t.replace('${TOKEN}', token));
    const a = ctx();
    expect(a.config).toEqual({ repo: 'o/r', token: 'one' });
    expect(ctx()).toBe(a);
    token = 'two';
    const b = ctx();
    expect(b).not.toBe(a);
    expect(b.config).toEqual({ repo: 'o/r', token: 'two' });
    expect(ctx()).toBe(b);
  });

  it('a secret that can no longer be resolved fails the poll with the path of the value', () => {
    const ctx = freshContext(base, raw, () => () => {
      throw new Error('environment variable TOKEN is not set');
    });
    expect(() => ctx()).toThrow('config.token: cannot resolve ${TOKEN}: environment variable TOKEN is not set');
  });
});

describe('buildGraph: the ingress body limit', () => {
  const deps = { getProvider: (kind: ProviderKind, name: string) => getProvider(kind, name) as Provider, env: () => undefined, providerLog: () => ({ debug() {}, info() {}, warn() {}, error() {} }) };
  const graphOf = (config: Record<string, unknown>, provider = 'webhook') =>
    buildGraph({ serial: 1, project: { name: 'p', dir: '/tmp' }, resources: [{ kind: 'source', name: 'hook', provider, spec: { config }, prompt: null }] }, deps);

  it('is read once per source from max_body (default: the provider’s, else 1 MB)', () => {
    expect(graphOf({}).sources.get('hook')!.maxBodyBytes).toBe(1024 * 1024);
    expect(graphOf({}, 'github-webhook').sources.get('hook')!.maxBodyBytes).toBe(25 * 1024 * 1024);
    expect(graphOf({ max_body: '1KB' }).sources.get('hook')!.maxBodyBytes).toBe(1024);
  });

  it('an invalid max_body stops the graph instead of falling back to the default', () => {
    expect(() => graphOf({ max_body: 'huge' })).toThrow(GraphError);
    expect(() => graphOf({ max_body: 'huge' })).toThrow(/source\.hook: max_body: invalid size "huge"/);
  });
});
