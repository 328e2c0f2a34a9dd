import { describe, expect, it } from 'vitest';
import { snapshotDigest, toSnapshot } from './snapshot.js';
import { diffSnapshots } from './diff.js';
import { renderText } from './render-text.js';
import { renderMarkdown } from './render-markdown.js';
import { renderJson } from './render-json.js';
import { projectOf, testKey, type MiniProject } from './test-helpers/project.js';
import type { SensitiveLookup } from './snapshot.js';
import type { StateSnapshot } from '../graph/types.js';

const SALT = 'salt-1';
const SECRET = 'hunter2-very-secret-value';

function base(): MiniProject {
  return {
    sources: [
      { id: 'github', config: { path: '/gh', secret: SECRET }, templates: { 'config.secret': '${GH_SECRET}' } },
      { id: 'linear' },
    ],
    actors: [{ id: 'eng' }, { id: 'ops' }],
    routes: [
      { name: 'pr-review', source: 'github', actor: 'eng', filter: { 'provenance.platform_event': 'pull_request_review' }, prompt: { file: 'sops/pr.md', text: 'Review the PR.\nBe kind.\n' } },
      { name: 'tickets', source: 'linear', actor: 'ops' },
    ],
  };
}

const snap = (p: MiniProject, sensitive?: SensitiveLookup) => toSnapshot(projectOf(p), { salt: SALT, key: testKey, sensitive });
const blobsOf = (...xs: Array<Record<string, string>>) => (sha: string) => xs.find((x) => x[sha] !== undefined)?.[sha] ?? null;

describe('toSnapshot', () => {
  it('stores secrets as template and keyed hash, never the value', () => {
    const d = snap(base());
    const text = JSON.stringify(d);
    expect(text).not.toContain(SECRET);
    const cfg = d.snapshot.resources['source.github'].attributes.config as Record<string, unknown>;
    expect(cfg.secret).toEqual({ $secret: { template: '${GH_SECRET}', hash: expect.stringMatching(/^hmac-sha256:[0-9a-f]{12}:[0-9a-f]{64}$/) } });
    expect(d.snapshot.resources['route.pr-review'].prompt_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.values(d.blobs)).toEqual(['Review the PR.\nBe kind.\n']);
    expect(d.digest).toMatch(/^sha256:/);
  });

  it('masks provider-sensitive fields written inline and warns', () => {
    const p = base();
    p.actors![0].config = { command: 'true', token: 'inline-token-123' };
    const d = snap(p, (k, n) => (k === 'actor' && n === 'command' ? { sensitive: ['token'] } : undefined));
    expect(JSON.stringify(d)).not.toContain('inline-token-123');
    expect((d.snapshot.resources['actor.eng'].attributes.config as any).token.$secret.template).toBe('(inline)');
    expect(d.warnings.join('\n')).toMatch(/actor\.eng config\.token is sensitive but written inline/);
  });

  it('finds secret paths through keys that contain dots and array indices', () => {
    const p = base();
    p.actors![0].config = { command: ['run', 'x-secret-y'], env: { 'A.B': 'dotted-secret' } };
    // (variables named as secrets: other ${VAR} values are shown, see engine/secrets tests)
    p.actors![0].templates = { 'config.command[1]': '${ARG_TOKEN}', 'config.env.A.B': '${AB_SECRET}' };
    const d = snap(p);
    const text = JSON.stringify(d.snapshot);
    expect(text).not.toContain('x-secret-y');
    expect(text).not.toContain('dotted-secret');
  });
});

describe('diffSnapshots', () => {
  it('plans every resource as create against empty state, then no changes', () => {
    const d = snap(base());
    const first = diffSnapshots(null, d.snapshot, blobsOf(d.blobs));
    expect(first.changes.map((c) => c.action)).toEqual(Array(6).fill('create'));
    expect(first.summary).toMatchObject({ add: 6, change: 0, destroy: 0 });
    expect(renderText(first, { color: false })).toContain('Plan: 6 to add, 0 to change, 0 to destroy.');
    const again = diffSnapshots(d.snapshot, snap(base()).snapshot, blobsOf(d.blobs));
    expect(again.changes).toEqual([]);
    expect(again.summary.unchanged).toBe(6);
    expect(renderText(again, { color: false })).toContain('No changes. Your organization matches the configuration.');
  });

  it('shows a route filter change as an in-place update with the field diff', () => {
    const prior = snap(base()).snapshot;
    const p = base();
    p.routes![0].filter = { 'provenance.platform_event': 'pull_request' };
    const plan = diffSnapshots(prior, snap(p).snapshot, () => null);
    expect(plan.changes).toHaveLength(1);
    const c = plan.changes[0];
    expect(c).toMatchObject({ address: 'route.pr-review', action: 'update', actions: ['update'] });
    expect(c.fields).toEqual([{ path: 'when.filter["provenance.platform_event"]', before: 'pull_request_review', after: 'pull_request' }]);
    const text = renderText(plan, { color: false });
    expect(text).toContain('~ when.filter["provenance.platform_event"] = "pull_request_review" -> "pull_request"');
    expect(text).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
  });

  it('diffs prompt texts as a unified diff', () => {
    const before = snap(base());
    const p = base();
    p.routes![0].prompt = { file: 'sops/pr.md', text: 'Review the PR.\nBe thorough.\n' };
    const after = snap(p);
    const plan = diffSnapshots(before.snapshot, after.snapshot, blobsOf(before.blobs, after.blobs));
    const c = plan.changes[0];
    expect(c.action).toBe('update');
    expect(c.reason).toBe('changed: prompt text');
    expect(c.prompt?.diff).toContain('-Be kind.');
    expect(c.prompt?.diff).toContain('+Be thorough.');
    expect(c.prompt?.diff).toContain('--- a/sops/pr.md');
  });

  it('reports a changed secret value only as (sensitive value changed)', () => {
    const before = snap(base());
    const p = base();
    p.sources![0].config = { path: '/gh', secret: 'another-secret-value' };
    const plan = diffSnapshots(before.snapshot, snap(p).snapshot, () => null);
    expect(plan.changes[0].fields).toEqual([
      expect.objectContaining({ path: 'config.secret', sensitive: true, sensitive_value_changed: true }),
    ]);
    const out = renderText(plan, { color: false }) + renderJson(plan, { includeSnapshot: true }) + renderMarkdown(plan);
    expect(out).toContain('config.secret = (sensitive value changed)');
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain('another-secret-value');
  });

  it('replaces when a replaceOn field or the provider changes', () => {
    const prior = snap(base()).snapshot;
    const p = base();
    p.sources![0].config = { path: '/github', secret: SECRET };
    p.actors![1].connector = 'webhook';
    const plan = diffSnapshots(prior, snap(p).snapshot, () => null, { replaceOn: (k, n) => (k === 'source' && n === 'webhook' ? ['path'] : undefined) });
    const byAddr = Object.fromEntries(plan.changes.map((c) => [c.address, c]));
    expect(byAddr['source.github']).toMatchObject({ action: 'replace', actions: ['delete', 'create'], reason: 'config.path forces replacement' });
    expect(byAddr['actor.ops']).toMatchObject({ action: 'replace', reason: 'provider changed from command to webhook, which forces replacement' });
    expect(plan.summary).toMatchObject({ add: 2, change: 0, destroy: 2, replace: 2 });
    const text = renderText(plan, { color: false });
    expect(text).toMatch(/-\/\+ actor\.ops/);
    expect(text).toContain('# forces replacement');
  });

  it('lists destroys first and reports the topology they leave behind', () => {
    const prior = snap(base()).snapshot;
    const p = base();
    p.actors = p.actors!.filter((a) => a.id !== 'ops');
    p.routes = p.routes!.filter((r) => r.name !== 'tickets');
    p.routes.push({ name: 'new-one', source: 'github', actor: 'eng', events: ['push'] });
    const plan = diffSnapshots(prior, snap(p).snapshot, () => null);
    expect(plan.changes.map((c) => [c.action, c.address])).toEqual([
      ['delete', 'actor.ops'],
      ['delete', 'route.tickets'],
      ['create', 'route.new-one'],
    ]);
    expect(plan.topology.unrouted_sources).toEqual([{ source: 'source.linear', new: true }]);
    expect(plan.topology.unrouted_event_types).toEqual([{ source: 'source.linear', event: 'resource.changed' }]);
    expect(plan.topology.fanout_changes).toEqual([
      { source: 'source.github', before: 1, after: 2 },
      { source: 'source.linear', before: 1, after: 0 },
    ]);
    const text = renderText(plan, { color: false });
    expect(text.indexOf('- actor.ops')).toBeLessThan(text.indexOf('+ route.new-one'));
    expect(text).toContain('source.linear has no routes');
  });

  it('detects new actor.stopped loops and actors left without routes', () => {
    const p = base();
    const prior = snap(p).snapshot;
    p.routes!.push({ name: 'eng-to-ops', source: 'eng', actor: 'ops', events: ['actor.stopped'] });
    p.routes!.push({ name: 'ops-to-eng', source: 'ops', actor: 'eng', events: ['actor.stopped'] });
    p.actors!.push({ id: 'idle' });
    const plan = diffSnapshots(prior, snap(p).snapshot, () => null);
    expect(plan.topology.new_cycles).toEqual([{ actors: ['actor.eng', 'actor.ops'], routes: ['route.eng-to-ops', 'route.ops-to-eng'] }]);
    expect(plan.topology.actors_without_routes).toEqual([{ actor: 'actor.idle', new: true }]);
    expect(renderText(plan, { color: false })).toContain('new actor.stopped loop: actor.eng -> actor.ops -> actor.eng');
    // the same loop is not "new" once applied
    const next = diffSnapshots(plan.desired, plan.desired, () => null);
    expect(next.topology.new_cycles).toEqual([]);
  });
});

describe('renderMarkdown', () => {
  function big(routes: number, sources: number, actors: number, prefix = 'r'): MiniProject {
    return {
      sources: Array.from({ length: sources }, (_, i) => ({ id: `src-${i}` })),
      actors: Array.from({ length: actors }, (_, i) => ({ id: `actor-${i}` })),
      routes: Array.from({ length: routes }, (_, i) => ({
        name: `${prefix}-${i}`, source: `src-${i % sources}`, actor: `actor-${i % actors}`, filter: { 'payload.n': i },
      })),
    };
  }

  it('keeps a 10,000-route plan under 65,000 characters with the summary and every destroy', () => {
    const prior = snap(big(10_000, 2000, 500)).snapshot;
    const p = big(10_000, 2000, 500);
    p.routes = p.routes!.filter((_, i) => i % 50 !== 0); // 200 destroys
    p.routes = p.routes.map((r, i) => (i % 3 === 0 ? { ...r, filter: { 'payload.n': -1 } } : r));
    p.routes.push(...big(3000, 2000, 500, 'extra').routes!);
    const plan = diffSnapshots(prior, snap(p).snapshot, () => null);
    expect(plan.summary.destroy).toBe(200);
    const md = renderMarkdown(plan);
    expect(md.length).toBeLessThan(65_000);
    expect(md).toContain(`**Plan: 3000 to add, ${plan.summary.change} to change, 200 to destroy.**`);
    for (const c of plan.changes.filter((x) => x.action === 'delete')) expect(md).toContain('`' + c.address + '`');
    expect(md).toMatch(/more changes not shown/);
    expect(md.indexOf('**Plan:')).toBeLessThan(md.indexOf('<details>'));
  });

  it('shows small plans whole', () => {
    const plan = diffSnapshots(null, snap(base()).snapshot, () => null);
    const md = renderMarkdown(plan);
    expect(md).toContain('<details><summary>Details (6 changes)</summary>');
    expect(md).not.toContain('not shown');
    expect(md.trim().endsWith('</details>')).toBe(true);
  });
});

describe('plan JSON', () => {
  it('is versioned with action lists and sensitive masks', () => {
    const plan = diffSnapshots(null, snap(base()).snapshot, () => null, { lineage: 'L', serial: 0 });
    const doc = JSON.parse(renderJson(plan));
    expect(doc.format_version).toBe(1);
    expect(doc.desired).toBeUndefined();
    const gh = doc.changes.find((c: any) => c.address === 'source.github');
    expect(gh.actions).toEqual(['create']);
    expect(gh.after_sensitive).toEqual(['config.secret']);
    const withSnap = JSON.parse(renderJson(plan, { includeSnapshot: true })) as { desired: StateSnapshot };
    expect(Object.keys(withSnap.desired.resources)).toHaveLength(6);
  });
});

describe('config digest', () => {
  it('is the same whatever order the desired snapshot lists its resources in', () => {
    const d = snap(base()).snapshot;
    const reversed: StateSnapshot = { ...d, resources: Object.fromEntries(Object.entries(d.resources).reverse()) };
    const sorted = diffSnapshots(null, d, blobsOf());
    const unsorted = diffSnapshots(null, reversed, blobsOf());
    expect(sorted.config_digest).toBe(snapshotDigest(d));
    expect(unsorted.config_digest).toBe(sorted.config_digest);
    expect(diffSnapshots(d, reversed, blobsOf()).summary).toMatchObject({ add: 0, change: 0, destroy: 0 });
  });
});
