// Hole 2: an empty or whitespace secret used to switch signature checks off. Every source that
// verifies signatures now refuses every request when its secret is blank, and the sensitive-field
// check that validate, plan and start share reports it.
import { describe, expect, it } from 'vitest';
import type { SourceProvider, WebhookRequest } from '../types.js';
import { claudeCodeSource } from '../sources/claude-code.js';
import { githubWebhookSource } from '../sources/github-webhook.js';
import { linearWebhookSource } from '../sources/linear-webhook.js';
import { webhookSource } from '../sources/webhook.js';
import { makeCtx } from './test-helpers/context.js';
import { blankSecretIssues, configuredSecrets } from './blank-secret.js';

// What an attacker sends: a plausible body, no signature at all.
const unsigned = (body: unknown, headers: Record<string, string> = {}): WebhookRequest => ({
  method: 'POST',
  path: '/webhook/x',
  headers: { 'content-type': 'application/json', 'x-github-event': 'push', ...headers },
  rawBody: Buffer.from(JSON.stringify(body)),
});

const sources: Array<[string, SourceProvider, string]> = [
  ['webhook', webhookSource, 'secret'],
  ['webhook (hmac_secret)', webhookSource, 'hmac_secret'],
  ['github-webhook', githubWebhookSource, 'secret'],
  ['linear-webhook', linearWebhookSource, 'secret'],
  ['claude-code', claudeCodeSource, 'secret'],
];

describe('a blank secret never turns signature checks off', () => {
  for (const [label, p, field] of sources) {
    for (const blank of ['', '   ', '\t\n', [''], ['ok-secret', ' ']]) {
      it(`${label}: ${field}=${JSON.stringify(blank)} refuses an unsigned post`, async () => {
        const r = await p.handleWebhook!(makeCtx({ [field]: blank }), unsigned({ session_id: 's', webhookTimestamp: Date.now(), id: 1 }));
        expect(r).toEqual({ ok: false, status: 401, error: expect.stringMatching(/secret is configured but empty/) });
      });
    }
  }

  it('reports blank sensitive fields by path, and only those', () => {
    const issues = blankSecretIssues({ secret: ' ', token: 'real', auth: { bearer: '' }, list: [] }, ['secret', 'token', 'auth.bearer', 'absent']);
    expect(issues.map((i) => i.path)).toEqual(['secret', 'auth.bearer']);
    expect(issues[0]!.message).toMatch(/config\.secret is empty: an empty secret is an error like an unset one/);
  });

  it('keeps real secrets, in order, for rotation', () => {
    expect(configuredSecrets({ secret: ['a', 'b'], hmac_secret: 'c' }, ['secret', 'hmac_secret'])).toEqual({ values: ['a', 'b', 'c'], blank: false });
    expect(configuredSecrets({}, ['secret'])).toEqual({ values: [], blank: false });
  });
});
