// Provider packages (DESIGN §7): a provider published as its own npm package, installed in a
// project's node_modules, written against `orgloop/sdk` only. The project here is a temp
// directory with its own package.json; orgloop itself is linked into its node_modules the way
// `npm install orgloop` (or `npm link`) leaves it, and the CLI is the built dist/ in child processes.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, runExecutor } from '../cmd/test-helpers/executor.js';
import { openStore } from '../state/open.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1' };
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// A vendor package with a polling source and an actor, as a third party would write it: plain
// ESM, its only orgloop import is `orgloop/sdk`.
const COUNTER_PKG = `
import { contractVersion } from 'orgloop/sdk';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

const source = {
  kind: 'source',
  name: 'counter',
  contractVersion,
  description: 'Counts up to config.limit, one event per poll',
  polling: true,
  configSchema: {
    type: 'object',
    properties: { limit: { type: 'integer', minimum: 1 }, api_key: { type: 'string', sensitive: true } },
    required: ['limit', 'api_key'],
    additionalProperties: false,
  },
  sensitive: ['api_key'],
  async poll(ctx, cursor) {
    const n = cursor === null ? 0 : Number(cursor);
    if (n >= ctx.config.limit) return { events: [], cursor };
    return {
      cursor: String(n + 1),
      events: [{ type: 'resource.changed', dedupe_key: 'n-' + n, provenance: { platform: 'counter', platform_event: 'count.up' }, payload: { n, key_len: ctx.config.api_key.length } }],
    };
  },
};

const actor = {
  kind: 'actor',
  name: 'counter',
  contractVersion,
  configSchema: { type: 'object', properties: { file: { type: 'string' } }, required: ['file'] },
  async deliver(ctx, req) {
    appendFileSync(join(ctx.projectDir, ctx.config.file), JSON.stringify(req.event.payload) + '\\n');
    return { ok: true };
  },
};

export default [source, actor];
`;

const FUTURE_PKG = `
export default { kind: 'source', name: 'future', contractVersion: 99, configSchema: { type: 'object' }, async poll() { return { events: [], cursor: null }; } };
`;

// The package's own test, run with plain node: the SDK harness runs its source inside a real
// executor and restarts it on the same store.
const HARNESS_TEST = `
import { startHarness } from 'orgloop/sdk';
import provider from '@orgloop/connector-counter';
const [source] = provider;
const h = await startHarness({ provider: source, config: { limit: 3, api_key: '\${COUNTER_KEY}' }, env: { COUNTER_KEY: 'k-123' } });
try {
  const first = await h.events(3);
  await h.restart();
  await new Promise((r) => setTimeout(r, 1500));
  const after = await h.events(3);
  console.log(JSON.stringify({ first: first.map((e) => e.payload), after: after.length, platform_event: first[0].provenance.platform_event }));
} finally {
  await h.close();
}
`;

function writePackage(project: string, name: string, index: string, extra: Record<string, unknown> = {}) {
  const dir = join(project, 'node_modules', ...name.split('/'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.2.3', type: 'module', exports: { '.': { import: './index.js' } }, peerDependencies: { orgloop: '*' }, ...extra }));
  writeFileSync(join(dir, 'index.js'), index);
}

function project(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'orgloop-pkg-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'acme-org', private: true, dependencies: { orgloop: '*', '@orgloop/connector-counter': '1.2.3' } }));
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(root, join(dir, 'node_modules', 'orgloop'), 'dir');
  writePackage(dir, '@orgloop/connector-counter', COUNTER_PKG);
  writePackage(dir, '@acme/orgloop-future', FUTURE_PKG, { keywords: ['orgloop-provider'] });
  writeFileSync(join(dir, 'orgloop.yaml'), yaml);
  writeFileSync(join(dir, '.env'), 'COUNTER_KEY=k-123\n');
  return dir;
}

const YAML = `
sources:
  - id: count
    connector: counter
    config: { limit: 3, api_key: "\${COUNTER_KEY}" }
    poll: { interval: 1s }
actors:
  - id: tally
    connector: "@orgloop/connector-counter"
    config: { file: tally.jsonl }
routes:
  - name: count-to-tally
    when: { source: count, events: [count.up] }
    then: { actor: tally }
`;

describe('provider packages from the project node_modules', () => {
  it('validates, applies and runs a package source and actor end to end', async () => {
    const dir = project(YAML);
    const v = await cli(['validate'], { cwd: dir, env });
    expect(v.stderr).toBe('');
    expect(v.stdout).toContain('1 source, 1 actor, 1 route');

    const a = await cli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(a.code).toBe(0);
    const ex = await runExecutor(['start', '--port', '0'], { cwd: dir, env });
    try {
      const deadline = Date.now() + 15_000;
      let lines: string[] = [];
      while (Date.now() < deadline) {
        try {
          lines = readFileSync(join(dir, 'tally.jsonl'), 'utf8').trim().split('\n');
        } catch {
          lines = [];
        }
        if (lines.length >= 3) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(lines.map((l) => JSON.parse(l))).toEqual([
        { n: 0, key_len: 5 },
        { n: 1, key_len: 5 },
        { n: 2, key_len: 5 },
      ]);
    } finally {
      await ex.stop();
    }
    // the secret went through ${VAR}: state holds the template, not the value
    const store = await openStore(join(dir, '.orgloop', 'state.db'));
    try {
      const snap = JSON.stringify((await store.version((await store.meta()).serial))!.snapshot);
      expect(snap).not.toContain('k-123');
      expect(snap).toContain('${COUNTER_KEY}');
    } finally {
      await store.close();
    }
  }, 40_000);

  it('names the package to install when it is missing, and refuses an incompatible contract version', async () => {
    const dir = project(`
sources:
  - id: tickets
    connector: "@orgloop/connector-nothere"
  - id: later
    connector: "@acme/orgloop-future"
  - id: typo
    connector: countr
  - id: count
    connector: counter
    config: { limit: 1, api_key: x }
`);
    const r = await cli(['validate'], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'orgloop.yaml:4:16: source "tickets": unknown source connector "@orgloop/connector-nothere" (no built-in source connector named "nothere"; package @orgloop/connector-nothere is not installed: npm install @orgloop/connector-nothere)\n' +
        'orgloop.yaml:6:16: source "later": package @acme/orgloop-future cannot be used as a source connector: it was built for provider contract version 99; this orgloop supports 1\n' +
        'orgloop.yaml:8:16: source "typo": unknown source connector "countr"; did you mean "counter"?\n' +
        '3 errors found.\n',
    );
  });

  it('lists built-ins and installed packages with their config fields', async () => {
    const dir = project(YAML);
    const r = await cli(['providers', '--json'], { cwd: dir, env });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const counter = out.providers.find((p: any) => p.kind === 'source' && p.name === 'counter');
    expect(counter).toMatchObject({ origin: '@orgloop/connector-counter@1.2.3', polling: true, contract_version: 1 });
    expect(counter.fields).toEqual([
      { name: 'limit', type: 'integer', required: true, sensitive: false },
      { name: 'api_key', type: 'string', required: true, sensitive: true },
    ]);
    expect(out.providers.find((p: any) => p.kind === 'source' && p.name === 'webhook')?.origin).toBe('built-in');
    expect(out.broken).toEqual([{ package: '@acme/orgloop-future', error: 'it was built for provider contract version 99; this orgloop supports 1' }]);
    const text = await cli(['providers', 'counter'], { cwd: dir, env });
    expect(text.stdout).toContain('counter  (@orgloop/connector-counter@1.2.3)  [polling]');
    expect(text.stdout).toContain('config: limit*: integer, api_key* (secret): string');
  });

  it('init --connectors scaffolds a project that uses an installed package', async () => {
    const dir = project(YAML);
    rmSync(join(dir, 'orgloop.yaml'));
    const r = await cli(['init', '.', '--force', '--connectors', 'counter'], { cwd: dir, env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const yaml = readFileSync(join(dir, 'orgloop.yaml'), 'utf8');
    expect(yaml).toContain('connector: counter');
    expect(readFileSync(join(dir, '.env.example'), 'utf8')).toContain('COUNTER_API_KEY=');
    writeFileSync(join(dir, '.env'), 'COUNTER_API_KEY=x\nCOUNTER_2_FILE=t.jsonl\n');
    expect(yaml).toContain('limit: 1');
    const v = await cli(['validate'], { cwd: dir, env });
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
    const bad = await cli(['init', 'other', '--connectors', 'nothere'], { cwd: dir, env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('Error: unknown connector "nothere": no built-in source or actor has that name; if it is a package, install it first: npm install @orgloop/connector-nothere\n');
  });

  it("the SDK harness runs the package's source in a real executor across a restart", async () => {
    const dir = project(YAML);
    writeFileSync(join(dir, 'harness.test.mjs'), HARNESS_TEST);
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['harness.test.mjs'], { cwd: dir, env, encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      first: [
        { n: 0, key_len: 5 },
        { n: 1, key_len: 5 },
        { n: 2, key_len: 5 },
      ],
      after: 3,
      platform_event: 'count.up',
    });
  }, 40_000);
});
