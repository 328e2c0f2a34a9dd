import { describe, expect, it } from 'vitest';
import type { ProviderContext } from '../../providers/types.js';
import { freshContext } from './graph.js';

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
