import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { renderForm, renderJsonText, renderShell, renderUrl } from './template-position.js';

const data = (v: unknown) => ({ payload: { v, n: 7 } });

describe('renderUrl (hole 9)', () => {
  it('encodes path, query and fragment values as one component each', () => {
    expect(renderUrl('https://api.example.com/repos/{{payload.v}}/x?q={{payload.v}}#{{payload.v}}', data('a/b?c=d&e#f'))).toEqual({
      ok: true,
      text: 'https://api.example.com/repos/a%2Fb%3Fc%3Dd%26e%23f/x?q=a%2Fb%3Fc%3Dd%26e%23f#a%2Fb%3Fc%3Dd%26e%23f',
    });
    // a literal `/` before the tag is what starts the path; a value never does
    expect(renderUrl('https://h/{{payload.n}}', data(''))).toEqual({ ok: true, text: 'https://h/7' });
  });

  it('refuses a value that makes a whole path segment . or .. (parsers resolve them)', () => {
    for (const [tpl, v] of [
      ['https://h/a/{{payload.v}}/b', '..'],
      ['https://h/a/{{payload.v}}', '.'],
      ['https://h/a/%2e{{payload.v}}?x=1', '.'],
    ]) {
      expect(renderUrl(tpl!, data(v))).toMatchObject({ ok: false });
    }
    // dots that are not a whole segment are just text; in the query they are data
    expect(renderUrl('https://h/a/v{{payload.v}}/b?x={{payload.v}}', data('..'))).toEqual({ ok: true, text: 'https://h/a/v../b?x=..' });
  });

  it('lets only names into the scheme, host and port', () => {
    expect(renderUrl('https://{{payload.v}}.example.com:{{payload.n}}/x', data('eu-1'))).toEqual({ ok: true, text: 'https://eu-1.example.com:7/x' });
    for (const v of ['evil.com/x', 'a@b', 'h:1', 'https://evil.com', 'h?x', 'h#x', 'h\\x']) {
      expect(renderUrl('https://{{payload.v}}/x', data(v))).toMatchObject({ ok: false });
    }
    expect(renderUrl('{{payload.v}}', data('https://evil.com/'))).toMatchObject({ ok: false });
  });
});

describe('renderJsonText (hole 9)', () => {
  it('inside a string: the value is string content; outside: one JSON value', () => {
    const hostile = 'x", "channel": "#admins", "y": "\\';
    const out = renderJsonText('{"text": "Title: {{payload.v}}!", "raw": {{payload.v}}, "n": {{payload.n}}, "none": {{payload.no}}}', data(hostile));
    expect(JSON.parse(out)).toEqual({ text: `Title: ${hostile}!`, raw: hostile, n: 7, none: null });
  });
  it('escaped quotes in the template do not confuse the scan', () => {
    const out = renderJsonText('{"a": "say \\"{{payload.v}}\\"", "b": {{payload.v}}}', data('"}'));
    expect(JSON.parse(out)).toEqual({ a: 'say ""}"', b: '"}' });
  });
});

describe('renderShell (hole 9)', () => {
  const hostile = `it's $(id) \`id\` "q" \\ ; rm -rf /tmp/none &`;
  for (const tpl of ['printf %s {{payload.v}}', "printf %s '{{payload.v}}'", 'printf %s "{{payload.v}}"', "printf %s \"it's\" '{{payload.v}}' x\\'{{payload.v}}"]) {
    it(`keeps the value one word: ${tpl}`, () => {
      const line = renderShell(tpl, data(hostile));
      const out = execFileSync('sh', ['-c', line], { encoding: 'utf8' });
      const expected = tpl.endsWith("x\\'{{payload.v}}") ? `it's${hostile}x'${hostile}` : hostile;
      expect(out).toBe(expected);
    });
  }
});

describe('renderForm (hole 9)', () => {
  it('encodes each value as one field value', () => {
    expect(Object.fromEntries(new URLSearchParams(renderForm('a={{payload.v}}&b=2', data('1&b=3'))))).toEqual({ a: '1&b=3', b: '2' });
  });
});
