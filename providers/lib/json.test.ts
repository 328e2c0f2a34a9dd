import { describe, expect, it } from 'vitest';
import { jsonObject } from './json.js';

describe('jsonObject', () => {
  it('gives the text JSON.stringify gives for the whole object', () => {
    const event = { id: 'evt_1', payload: { title: 'a "quoted" \u2028 title', n: [1, null] } };
    const values = { prompt: null, config: { k: 'v' }, skipped: undefined, delivery: { id: 'dlv_1', attempt: 2 } };
    const text = jsonObject({ event: JSON.stringify(event) }, values);
    expect(text).toBe(JSON.stringify({ event, ...values }));
    expect(JSON.parse(text)).toEqual({ event, prompt: null, config: { k: 'v' }, delivery: { id: 'dlv_1', attempt: 2 } });
  });
});
