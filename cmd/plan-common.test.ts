import { describe, expect, it } from 'vitest';
import { terraformArgs } from './plan-common.js';

describe('terraformArgs', () => {
  it('translates Terraform spellings into a copy, leaving the process arguments alone', () => {
    const argv = ['node', 'orgloop', 'plan', '-out', 'p.json', '-refresh=false', '--', '-out'];
    const before = [...argv];
    expect(terraformArgs(argv)).toEqual(['node', 'orgloop', 'plan', '--out', 'p.json', '--refresh=false', '--', '-out']);
    expect(terraformArgs(['node', 'orgloop', 'rollback', '--to', '1', '-out=r.plan'])).toEqual(['node', 'orgloop', 'rollback', '--to', '1', '--out=r.plan']);
    expect(terraformArgs(['node', 'orgloop', 'plan', '-destroy'])).toEqual(['node', 'orgloop', 'plan', '--destroy']);
    expect(terraformArgs(['node', 'orgloop', 'destroy', '-auto-approve'])).toEqual(['node', 'orgloop', 'destroy', '--auto-approve']);
    expect(terraformArgs(['node', 'orgloop', 'fmt', '-diff'])).toEqual(['node', 'orgloop', 'fmt', '--diff']);
    expect(terraformArgs(['node', 'orgloop', 'fmt', '-check', '-diff'])).toEqual(['node', 'orgloop', 'fmt', '--check', '--diff']);
    expect(terraformArgs(['node', 'orgloop', 'show', '-json'])).toEqual(['node', 'orgloop', 'show', '--json']);
    expect(terraformArgs(['node', 'orgloop', 'plan', '-detailed-exitcode'])).toEqual(['node', 'orgloop', 'plan', '--detailed-exitcode']);
    expect(argv).toEqual(before);
  });
});
