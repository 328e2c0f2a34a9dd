import { describe, expect, it } from 'vitest';
import { signGithub, signStandard, standardHeaders, verifyGithub, verifyHmac, verifyStandard, hmacSha256 } from './signatures.js';

const body = Buffer.from('{"type":"test"}');

describe('Standard Webhooks', () => {
  // Known-answer vector from the Standard Webhooks reference implementation.
  it('matches the reference test vector', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const sig = signStandard(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(sig).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verifies with any active secret and any listed signature', () => {
    const now = new Date();
    const h = standardHeaders('new-secret', 'msg_1', body, now);
    const res = verifyStandard(['old-secret', 'new-secret'], { id: h['webhook-id'], timestamp: h['webhook-timestamp'], signature: `v1,AAAA ${h['webhook-signature']}` }, body, now);
    expect(res).toEqual({ ok: true });
  });

  it('rejects wrong secret, tampered body, missing headers and stale or future timestamps', () => {
    const now = new Date();
    const h = standardHeaders('s', 'msg_1', body, now);
    const hs = { id: h['webhook-id'], timestamp: h['webhook-timestamp'], signature: h['webhook-signature'] };
    expect(verifyStandard(['other'], hs, body, now)).toEqual({ ok: false, error: 'webhook-signature does not match' });
    expect(verifyStandard(['s'], hs, Buffer.from('{"type":"x"}'), now)).toEqual({ ok: false, error: 'webhook-signature does not match' });
    expect(verifyStandard(['s'], { id: 'x' }, body, now)).toEqual({ ok: false, error: 'missing Standard Webhooks header(s): webhook-timestamp, webhook-signature' });
    const later = new Date(now.getTime() + 6 * 60_000);
    expect(verifyStandard(['s'], hs, body, later)).toEqual({ ok: false, error: 'webhook-timestamp outside the 300s replay window' });
    const earlier = new Date(now.getTime() - 6 * 60_000);
    expect(verifyStandard(['s'], hs, body, earlier)).toEqual({ ok: false, error: 'webhook-timestamp outside the 300s replay window' });
    expect(verifyStandard(['s'], { ...hs, signature: 'v2,abc' }, body, now)).toEqual({ ok: false, error: 'webhook-signature has no v1 signature' });
  });
});

describe('GitHub X-Hub-Signature-256', () => {
  it('verifies and rejects', () => {
    const header = signGithub('gh', body);
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyGithub(['x', 'gh'], header, body)).toEqual({ ok: true });
    expect(verifyGithub(['x'], header, body)).toEqual({ ok: false, error: 'X-Hub-Signature-256 does not match' });
    expect(verifyGithub(['gh'], 'sha1=abc', body)).toEqual({ ok: false, error: 'malformed X-Hub-Signature-256 header (expected sha256=<hex>)' });
    expect(verifyGithub(['gh'], undefined, body)).toEqual({ ok: false, error: 'missing X-Hub-Signature-256 header' });
  });
});

describe('plain HMAC', () => {
  it('accepts hex, sha256=hex and base64', () => {
    const mac = hmacSha256('k', body);
    for (const v of [mac.toString('hex'), `sha256=${mac.toString('hex')}`, mac.toString('base64')]) {
      expect(verifyHmac(['k'], v, body)).toEqual({ ok: true });
    }
    expect(verifyHmac(['j'], mac.toString('hex'), body)).toEqual({ ok: false, error: 'x-signature does not match' });
    expect(verifyHmac(['k'], 'nonsense', body, 'x-sig')).toEqual({ ok: false, error: 'malformed x-sig header (expected hex, sha256=<hex> or base64 HMAC-SHA256)' });
  });
});
