import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileValueMatcher, parseRegexLiteral, regexIssues } from './match.js';
import { getPath, setPath } from './path.js';
import { renderDeep, renderTemplate } from './template.js';

describe('value matching', () => {
  it('scalars compare by value, tolerating number/string spelling', () => {
    expect(compileValueMatcher('bot')('bot')).toBe(true);
    expect(compileValueMatcher('bot')('user')).toBe(false);
    expect(compileValueMatcher(42)('42')).toBe(true);
    expect(compileValueMatcher(true)(true)).toBe(true);
    expect(compileValueMatcher(true)(false)).toBe(false);
    expect(compileValueMatcher('x')(undefined)).toBe(false);
  });

  it('a list matches any of its values', () => {
    const m = compileValueMatcher(['opened', 'reopened']);
    expect(m('reopened')).toBe(true);
    expect(m('closed')).toBe(false);
  });

  it('a /regex/flags string matches text, and any element of an array', () => {
    const m = compileValueMatcher('/^fix/i');
    expect(m('Fix the thing')).toBe(true);
    expect(m('a fix')).toBe(false);
    expect(m(undefined)).toBe(false);
    expect(compileValueMatcher('/urg/')(['bug', 'urgent'])).toBe(true);
    expect(compileValueMatcher('/^release$/')(['bug', 'urgent'])).toBe(false);
  });

  it('a global flag does not make matching stateful', () => {
    const m = compileValueMatcher('/a/g');
    for (let i = 0; i < 5; i++) expect(m('a')).toBe(true);
  });

  it('a scalar matches when an array contains it', () => {
    expect(compileValueMatcher('bug')(['bug', 'urgent'])).toBe(true);
  });

  it('regexIssues names the bad pattern and its path', () => {
    expect(parseRegexLiteral('plain')).toBeNull();
    expect(regexIssues({ 'payload.title': '/(unclosed/' }, 'match')).toEqual([
      { path: 'match.payload.title', message: expect.stringContaining('invalid regular expression /(unclosed/') },
    ]);
    expect(regexIssues({ 'payload.title': ['/ok/', 'text'] }, 'match')).toEqual([]);
  });

  it('property: a value always matches itself and a list containing it', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string().filter((s) => !s.startsWith('/')), fc.integer(), fc.boolean()), fc.array(fc.integer()), (v, others) => {
        expect(compileValueMatcher(v)(v)).toBe(true);
        expect(compileValueMatcher([...others, v])(v)).toBe(true);
      }),
    );
  });
});

describe('dotted paths', () => {
  it('gets nested values and array indexes', () => {
    const o = { a: { b: [{ c: 1 }] } };
    expect(getPath(o, 'a.b.0.c')).toBe(1);
    expect(getPath(o, 'a.x.y')).toBeUndefined();
    expect(getPath(null, 'a')).toBeUndefined();
  });

  it('sets values creating objects on the way, refusing prototype keys', () => {
    const o: Record<string, unknown> = { a: 1 };
    setPath(o, 'x.y.z', 5);
    expect(o).toEqual({ a: 1, x: { y: { z: 5 } } });
    setPath(o, 'a.b', 2);
    expect(o.a).toEqual({ b: 2 });
    expect(() => setPath(o, '__proto__.polluted', 1)).toThrow('invalid path "__proto__.polluted"');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('templates', () => {
  const data = { payload: { pr_number: 42, labels: ['a'], nested: { k: 'v' } }, type: 'resource.changed' };

  it('interpolates into text', () => {
    expect(renderTemplate('pr-{{payload.pr_number}}', data)).toBe('pr-42');
    expect(renderTemplate('{{ type }}/{{payload.missing}}!', data)).toBe('resource.changed/!');
    expect(renderTemplate('labels={{payload.labels}}', data)).toBe('labels=["a"]');
  });

  it('a whole-string tag keeps the value type', () => {
    expect(renderTemplate('{{payload.pr_number}}', data)).toBe(42);
    expect(renderTemplate('{{payload.nested}}', data)).toEqual({ k: 'v' });
  });

  it('renders deep structures without touching the input', () => {
    const tpl = { key: 'pr-{{payload.pr_number}}', list: ['{{payload.nested.k}}', 3], n: null };
    expect(renderDeep(tpl, data)).toEqual({ key: 'pr-42', list: ['v', 3], n: null });
    expect(tpl.key).toBe('pr-{{payload.pr_number}}');
  });
});
