import { describe, expect, it } from 'vitest';
import { terraformArgs } from './plan-common.js';

describe('terraformArgs', () => {
  it('translates Terraform spellings into a copy, leaving the process arguments alone', () => {
    const argv = ['node', 'orgloop', 'plan', '-out', 'p.json', '-refresh=false', '--', '-out'];
    const before = [...argv];
    expect(terraformArgs(argv)).toEqual(['node', 'orgloop', 'plan', '--out', 'p.json', '--refresh=false', '--', '-out']);
    expect(terraformArgs(['node', 'orgloop', 'rollback', '--to', '1', '-out=r.plan'])).toEqual(['node', 'orgloop', 'rollback', '--to', '1', '--out=r.plan']);
    expect(argv).toEqual(before);
  });
});
