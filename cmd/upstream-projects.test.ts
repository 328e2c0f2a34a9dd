// testdata/upstream: projects written the way OrgLoop 0.7.9's docs write them validate without
// secrets, refuse to plan without them (naming each variable), and plan with them.

import { describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cli } from './test-helpers/executor.js';

const ROOT = resolve(import.meta.dirname, '../testdata/upstream');
const copy = (name: string) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'orgloop-upstream-')), name);
  cpSync(join(ROOT, name), dir, { recursive: true });
  return dir;
};

const ENV: Record<string, Record<string, string>> = {
  'engineering-org': {
    GITHUB_REPO: 'acme/api',
    GITHUB_TOKEN: 'gh-tok',
    LINEAR_TEAM_KEY: 'ENG',
    LINEAR_API_KEY: 'lin-key',
    OPENCLAW_WEBHOOK_TOKEN: 'oc-tok',
    OPENCLAW_DEFAULT_TO: '#eng',
  },
  'docs-shapes': { PARTNER_SHARED_SECRET: 'shared', GITHUB_REPO: 'acme/api', GITHUB_TOKEN: 'gh-tok', OPENCLAW_AGENT: 'coordinator', OPENCLAW_WEBHOOK_TOKEN: 'oc-tok' },
  inbound: { GITHUB_WEBHOOK_SECRET: 'gh-sec', LINEAR_WEBHOOK_SECRET: 'lin-sec', SINK_URL: 'http://127.0.0.1:9', SINK_PASSWORD: 'pw', SINK_TOKEN: 'tok' },
};

describe('testdata/upstream projects', () => {
  for (const [name, env] of Object.entries(ENV)) {
    it(`${name}: validates without secrets, plans with them`, async () => {
      const dir = copy(name);
      const v = await cli(['validate', '--json'], { cwd: dir });
      expect(v.code).toBe(0);
      const doc = JSON.parse(v.stdout) as { valid: boolean; warnings: Array<{ message: string }> };
      expect(doc.valid).toBe(true);
      for (const k of Object.keys(env)) expect(doc.warnings.map((w) => w.message).join('\n')).toContain(`environment variable ${k} is not set (plan, apply and start need it)`);
      // nothing else is unknown or ignored: every field written is honoured (a cron faster than
      // the 1m floor is honoured too, with a warning about the events it stores)
      expect(doc.warnings.filter((w) => !/environment variable|defaults\.log_level|more often than the 1m floor/.test(w.message))).toEqual([]);

      const bare = await cli(['plan'], { cwd: dir });
      expect(bare.code).toBe(1);
      expect(bare.stderr).toContain(`environment variable ${Object.keys(env)[0]} is not set`);

      const p = await cli(['plan', '--json'], { cwd: dir, env: { ...env, HOME: dir } });
      expect(p.stderr).not.toMatch(/error|warning/i);
      expect(p.code).toBe(0);
      const plan = JSON.parse(p.stdout) as { summary: { add: number }; changes: Array<{ address: string }> };
      expect(plan.summary.add).toBe(plan.changes.length);
      const route = { inbound: 'route.review submitted (upstream filter)', 'docs-shapes': 'route.partner reply -> coordinator' }[name] ?? 'route.PR review submitted -> engineering';
      expect(plan.changes.map((c) => c.address)).toContain(route);
    });
  }
});
