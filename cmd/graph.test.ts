// End-to-end: graph (every testdata/valid project and example), graph --plan, plan --format
// markdown with its Mermaid picture, plan --refresh-only, applying a saved rollback plan, fmt.

import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { cli, tempProject } from './test-helpers/executor.js';
import { checkMermaid, decodeLabel } from '../engine/graph/test-helpers/mermaid-check.js';
import { loadProject } from '../engine/config/load.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// values for the ${VAR}s the examples use; the picture never shows them
const EXAMPLE_ENV = {
  GITHUB_REPO: 'acme/api', GITHUB_TOKEN: 't', LINEAR_API_KEY: 'k', OPENCLAW_TOKEN: 'o', OPENCLAW_URL: 'http://127.0.0.1:9',
  ...{ ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EMAIL: 'a@acme.test', ZENDESK_TOKEN: 'z', SLACK_BOT_TOKEN: 's', PAGERDUTY_API_KEY: 'p', PAGERDUTY_ROUTING_KEY: 'r' },
  ...{ SALESFORCE_URL: 'https://acme.my.salesforce.com', SALESFORCE_TOKEN: 't', SALESFORCE_REFRESH_TOKEN: 'r', SALESFORCE_CLIENT_ID: 'c', SALESFORCE_CLIENT_SECRET: 's', CONTRACT_HMAC_SECRET: 'h' },
  ...{ GOOGLE_CLIENT_ID: 'g', GOOGLE_CLIENT_SECRET: 'gs', GOOGLE_REFRESH_TOKEN: 'gr' },
};

function projects(): string[] {
  const out: string[] = [];
  for (const base of ['testdata/valid', 'examples']) {
    const dir = join(ROOT, base);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const file = join(dir, name, 'orgloop.yaml');
      if (existsSync(file)) out.push(file);
    }
  }
  return out;
}

describe('graph --format mermaid for every testdata project', () => {
  const files = projects();
  it('finds projects to draw', () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
  });
  for (const file of files) {
    it(`draws ${file.slice(ROOT.length + 1)} as valid Mermaid with every source, route and actor`, async () => {
      const r = await cli(['-c', file, 'graph', '--format', 'mermaid'], { env: EXAMPLE_ENV });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const parsed = checkMermaid(r.stdout);
      expect(parsed.problems).toEqual([]);
      const project = await loadProject(file, { env: { ...process.env, ...EXAMPLE_ENV } });
      const labels = [...parsed.nodes.values()].map((l) => decodeLabel(l).split('\n')[0]);
      const drawn = project.resources.filter((x) => x.kind === 'source' || x.kind === 'actor' || x.kind === 'route');
      for (const res of drawn) expect(labels).toContain(res.name);
      expect(parsed.nodes.size).toBe(drawn.length);
      // one edge into each route and one out of it
      expect(parsed.edges.length).toBe(2 * project.resources.filter((x) => x.kind === 'route').length);
      const dot = await cli(['-c', file, 'graph', '--format', 'dot'], { env: EXAMPLE_ENV });
      expect(dot.code).toBe(0);
      expect(dot.stdout).toMatch(/^digraph orgloop \{\n[\s\S]*\}\n$/);
    });
  }

  it('rejects an unknown format and a broken project with file:line:col', async () => {
    const file = join(ROOT, 'testdata/valid/legal/orgloop.yaml');
    const r = await cli(['-c', file, 'graph', '--format', 'svg']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--format must be mermaid or dot (got "svg")');
    const broken = tempProject({ 'orgloop.yaml': 'routes:\n  - name: x\n    when: { source: nope }\n    then: { actor: nope }\n' });
    const b = await cli(['-c', join(broken, 'orgloop.yaml'), 'graph']);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/orgloop\.yaml:\d+:\d+: /);
  });
});

const BASE = `sources:
  - id: hooks
    connector: webhook
actors:
  - id: worker
    connector: command
    config: { command: "true" }
  - id: reviewer
    connector: command
    config: { command: "true" }
routes:
  - name: triage
    when: { source: hooks, events: [resource.changed] }
    then: { actor: worker }
  - name: old-review
    when: { source: worker, events: [actor.stopped] }
    then: { actor: reviewer }
`;
const CHANGED = BASE.replace(/ {2}- name: old-review[\s\S]*$/, `  - name: new-review
    when: { source: hooks, events: [custom.review] }
    then: { actor: reviewer }
`);

describe('pictures of plans', () => {
  it('graph --plan marks additions and removals; plan --format markdown embeds the changed part', async () => {
    const dir = tempProject({ 'orgloop.yaml': BASE });
    const c = ['-c', join(dir, 'orgloop.yaml')];
    expect((await cli([...c, 'apply', '--auto-approve'])).code).toBe(0);
    writeFileSync(join(dir, 'orgloop.yaml'), CHANGED);
    const planFile = join(dir, 'change.plan');
    expect((await cli([...c, 'plan', '-out', planFile])).code).toBe(0);

    const g = await cli([...c, 'graph', '--plan', planFile]);
    expect(g.code).toBe(0);
    const parsed = checkMermaid(g.stdout);
    expect(parsed.problems).toEqual([]);
    const labelOf = (id: string) => decodeLabel(parsed.nodes.get(id)!);
    expect(parsed.classes.get('added')?.map(labelOf)).toEqual(['+ new-review']);
    expect(parsed.classes.get('removed')?.map(labelOf)).toEqual(['- old-review']);
    expect(g.stdout).toMatch(/linkStyle \d+ stroke:#cf222e/);
    const dot = await cli([...c, 'graph', '--plan', planFile, '--format', 'dot', '--changed']);
    expect(dot.stdout).toContain('fillcolor="#ffebe9"');
    expect(dot.stdout).not.toContain('"r_triage"');

    const md = await cli([...c, 'plan', '--format', 'markdown']);
    expect(md.code).toBe(0);
    const block = /```mermaid\n([\s\S]*?)```/.exec(md.stdout);
    expect(block).not.toBeNull();
    const picture = checkMermaid(block![1]!);
    expect(picture.problems).toEqual([]);
    // only what changed and its neighbours: the unchanged triage route is left out
    expect([...picture.nodes.values()].map((l) => decodeLabel(l).split('\n')[0]).sort()).toEqual(
      ['+ new-review', '- old-review', 'hooks', 'reviewer', 'worker'].sort(),
    );

    const notPlan = join(dir, 'x.json');
    writeFileSync(notPlan, '{}');
    const bad = await cli([...c, 'graph', '--plan', notPlan]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('is not an orgloop plan file');
  }, 30_000);

  it('plan --refresh-only reports drift like `orgloop drift`', async () => {
    const withPrompt = BASE.replace('then: { actor: worker }', 'then: { actor: worker }\n    with: { prompt_file: ./p.md }');
    const dir = tempProject({ 'orgloop.yaml': withPrompt, 'p.md': 'hello\n' });
    const c = ['-c', join(dir, 'orgloop.yaml')];
    expect((await cli([...c, 'apply', '--auto-approve'])).code).toBe(0);
    expect((await cli([...c, 'plan', '--refresh-only'])).code).toBe(0);
    writeFileSync(join(dir, 'p.md'), 'changed\n');
    const r = await cli([...c, 'plan', '--refresh-only', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).items[0]).toMatchObject({ kind: 'prompt', address: 'route.triage', detail: 'p.md' });
  }, 30_000);

  it('apply of a plan saved by rollback -out records a rollback version', async () => {
    const dir = tempProject({ 'orgloop.yaml': BASE });
    const c = ['-c', join(dir, 'orgloop.yaml')];
    expect((await cli([...c, 'apply', '--auto-approve'])).code).toBe(0);
    writeFileSync(join(dir, 'orgloop.yaml'), CHANGED);
    expect((await cli([...c, 'apply', '--auto-approve'])).code).toBe(0);
    const file = join(dir, 'rb.plan');
    expect((await cli([...c, 'rollback', '--to', '1', '-out', file])).code).toBe(0);
    const applied = await cli([...c, 'apply', file]);
    expect(applied.code).toBe(0);
    const rows = JSON.parse((await cli([...c, 'history', '--json'])).stdout);
    expect(rows[2]).toMatchObject({ serial: 3, kind: 'rollback', rollback_of: 1, message: 'Rollback to 1' });
  }, 30_000);
});

describe('fmt', () => {
  it('--check lists unformatted files of a multi-file project and exits 1; fmt fixes them; comments stay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-fmt-cli-'));
    cpSync(join(ROOT, 'testdata/valid/multi-file'), dir, { recursive: true });
    const routes = join(dir, 'routes', 'intake.yaml');
    const original = readFileSync(routes, 'utf8');
    const messy = '# hand-edited\n' + parseDocument(original).toString({ indent: 4, indentSeq: false });
    writeFileSync(routes, messy);
    const c = ['-c', join(dir, 'orgloop.yaml')];
    const check = await cli([...c, 'fmt', '--check']);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('would reformat');
    expect(check.stdout).toContain('routes/intake.yaml');
    expect(check.stderr).toMatch(/\d+ files? not formatted; run `orgloop fmt` to fix\./);
    expect(readFileSync(routes, 'utf8')).toBe(messy);

    const fixed = await cli([...c, 'fmt']);
    expect(fixed.code).toBe(0);
    expect(readFileSync(routes, 'utf8').startsWith('# hand-edited\n')).toBe(true);
    expect((await cli([...c, 'fmt', '--check'])).code).toBe(0);
    // still the same project
    expect((await cli([...c, 'validate'])).code).toBe(0);

    writeFileSync(routes, 'routes: [\n');
    const broken = await cli([...c, 'fmt']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/routes\/intake\.yaml:\d+:\d+: /);
    expect(readFileSync(routes, 'utf8')).toBe('routes: [\n');
  }, 30_000);
});
