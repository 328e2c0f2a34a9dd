import { afterEach, describe, expect, it } from 'vitest';
import { forgetSecrets, maskHeaders, rememberSecret } from './index.js';

afterEach(() => forgetSecrets());

describe('maskHeaders', () => {
  it('keeps only the names of credential and signature headers and scrubs known secret values from the rest', () => {
    rememberSecret('hook-secret-123');
    const out = maskHeaders({
      authorization: 'Bearer abc.def',
      cookie: 'session=1',
      'x-hub-signature-256': 'sha256=ff',
      'webhook-signature': 'v1,xyz',
      'x-gitlab-token': 'hook-secret-123',
      'x-api-key': 'k',
      'x-echo': 'the secret is hook-secret-123',
      'content-type': 'application/json',
      'x-forwarded-for': ['10.0.0.1', '10.0.0.2'],
      'x-missing': undefined,
    });
    expect(out).toEqual({
      authorization: '[redacted]',
      cookie: '[redacted]',
      'x-hub-signature-256': '[redacted]',
      'webhook-signature': '[redacted]',
      'x-gitlab-token': '[redacted]',
      'x-api-key': '[redacted]',
      'x-echo': 'the secret is [redacted]',
      'content-type': 'application/json',
      'x-forwarded-for': '10.0.0.1, 10.0.0.2',
    });
  });

  it('bounds how many headers and how much of each value are kept', () => {
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`x-h${i}`, 'v'.repeat(i === 0 ? 2000 : 1)]));
    const out = maskHeaders(many);
    expect(Object.keys(out)).toHaveLength(65);
    expect(out['(more)']).toBe('36 more headers not kept');
    expect(out['x-h0']).toBe(`${'v'.repeat(512)}... (2000 characters)`);
  });
});
