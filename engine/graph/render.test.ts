import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildPlanTopology, buildTopology, focusChanged, type Mark, type TopoResource } from './render-model.js';
import { mermaidText, renderMermaid } from './render-mermaid.js';
import { renderDot } from './render-dot.js';
import { checkMermaid, decodeLabel } from './test-helpers/mermaid-check.js';

function source(name: string, provider = 'webhook'): TopoResource {
  return { address: `source.${name}`, kind: 'source', name, provider, attrs: { id: name, connector: provider, config: {} } };
}
function actor(name: string, provider = 'command'): TopoResource {
  return { address: `actor.${name}`, kind: 'actor', name, provider, attrs: { id: name, connector: provider, config: {} } };
}
function route(name: string, from: string, to: string, opts: { events?: string[]; transforms?: string[]; filter?: object } = {}): TopoResource {
  return {
    address: `route.${name}`,
    kind: 'route',
    name,
    provider: 'route',
    attrs: {
      name,
      when: { source: from, events: opts.events ?? ['resource.changed'], ...(opts.filter ? { filter: opts.filter } : {}) },
      transforms: opts.transforms ?? [],
      then: { actor: to },
    },
  };
}

const engineering = [
  source('github', 'github'),
  actor('engineering-agent', 'openclaw'),
  actor('supervisor', 'webhook'),
  { address: 'transform.drop-bots', kind: 'transform', name: 'drop-bots', provider: 'filter', attrs: {} } as TopoResource,
  { address: 'logger.audit', kind: 'logger', name: 'audit', provider: 'file', attrs: {} } as TopoResource,
  route('pr-review', 'github', 'engineering-agent', { transforms: ['drop-bots'], filter: { 'provenance.platform_event': 'pull_request_review' } }),
  route('supervise', 'engineering-agent', 'supervisor', { events: ['actor.stopped'] }),
  route('relaunch', 'supervisor', 'engineering-agent', { events: ['actor.stopped'] }),
];

describe('topology model', () => {
  it('draws sources -> routes -> actors with transforms on the delivery edge and actor.stopped loops', () => {
    const t = buildTopology(engineering);
    const id = (address: string) => t.nodes.find((n) => n.address === address)!.id;
    expect(t.nodes.map((n) => n.kind)).toEqual(['source', 'route', 'route', 'route', 'actor', 'actor']);
    expect(t.edges).toContainEqual({ from: id('source.github'), to: id('route.pr-review'), kind: 'event', label: 'resource.changed (filtered)' });
    expect(t.edges).toContainEqual({ from: id('route.pr-review'), to: id('actor.engineering-agent'), kind: 'deliver', label: 'drop-bots' });
    expect(t.edges).toContainEqual({ from: id('actor.engineering-agent'), to: id('route.supervise'), kind: 'loop', label: 'actor.stopped' });
    expect(t.edges).toContainEqual({ from: id('actor.supervisor'), to: id('route.relaunch'), kind: 'loop', label: 'actor.stopped' });
    expect(t.loggers).toEqual(['audit']);
  });

  it('gives colliding and hostile names distinct safe ids', () => {
    const t = buildTopology([source('a-b'), source('a_b'), source('a b'), source('end'), actor('"><script>'), route('x', 'a-b', '"><script>')]);
    const ids = t.nodes.map((n) => n.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z][A-Za-z0-9_]*$/);
  });

  it('marks plan additions, changes and removals on nodes and edges', () => {
    const before = [source('github'), actor('eng'), actor('old'), route('keep', 'github', 'eng'), route('gone', 'github', 'old')];
    const after = [source('github'), actor('eng'), actor('new'), route('keep', 'github', 'eng', { transforms: ['t1'] }), route('added', 'github', 'new')];
    const actions = new Map<string, Mark>([
      ['actor.old', 'delete'],
      ['route.gone', 'delete'],
      ['actor.new', 'create'],
      ['route.added', 'create'],
      ['route.keep', 'update'],
    ]);
    const t = buildPlanTopology(before, after, actions);
    const mark = (a: string) => t.nodes.find((n) => n.address === a)?.mark;
    expect(mark('actor.old')).toBe('delete');
    expect(mark('route.gone')).toBe('delete');
    expect(mark('actor.new')).toBe('create');
    expect(mark('route.keep')).toBe('update');
    expect(mark('source.github')).toBeUndefined();
    // the changed transform list replaces the keep -> eng edge
    const keepEdges = t.edges.filter((e) => e.kind === 'deliver' && e.from === t.nodes.find((n) => n.address === 'route.keep')!.id);
    expect(keepEdges.map((e) => [e.label, e.mark])).toEqual([['t1', 'create'], ['', 'delete']]);
    const focused = focusChanged(t);
    expect(focused.nodes.map((n) => n.address).sort()).toEqual(['actor.eng', 'actor.new', 'actor.old', 'route.added', 'route.gone', 'route.keep', 'source.github']);
  });
});

describe('mermaid', () => {
  it('renders a structurally valid flowchart with shapes, loops and a logger note', () => {
    const out = renderMermaid(buildTopology(engineering));
    const parsed = checkMermaid(out);
    expect(parsed.problems).toEqual([]);
    expect(parsed.direction).toBe('LR');
    expect(out).toContain('s_github(["github<br/>source: github"])');
    expect(out).toContain('r_pr_review{{"pr-review"}}');
    expect(out).toContain('a_engineering_agent[["engineering-agent<br/>actor: openclaw"]]');
    expect(out).toContain('r_pr_review -->|"drop-bots"| a_engineering_agent');
    expect(out).toContain('a_engineering_agent -.->|"actor.stopped"| r_supervise');
    expect(out).toContain('%% loggers (observe every step): audit');
    expect(parsed.edges).toHaveLength(6);
  });

  it('styles plan marks with classDef and linkStyle', () => {
    const t = buildPlanTopology([source('s'), actor('a')], [source('s'), actor('a'), route('r', 's', 'a')], new Map([['route.r', 'create' as Mark]]));
    const out = renderMermaid(t);
    const parsed = checkMermaid(out);
    expect(parsed.problems).toEqual([]);
    expect(out).toContain('classDef added ');
    expect(parsed.classes.get('added')).toEqual(['r_r']);
    expect(out).toMatch(/linkStyle 0 stroke:#1a7f37/);
    expect(out).toMatch(/linkStyle 1 stroke:#1a7f37/);
    expect(out).toContain('r_r{{"+ r"}}');
  });

  it('draws an empty project as a valid chart', () => {
    expect(checkMermaid(renderMermaid(buildTopology([]))).problems).toEqual([]);
  });

  it('any resource names yield valid Mermaid whose labels decode back to the names', () => {
    const name = fc.string({ minLength: 1, maxLength: 12, unit: fc.constantFrom(...'aZ09 -_."\'#<>&|;:[]{}()%`\\/\n→é🙂'.split(''), 'end', 'o', 'x') });
    fc.assert(
      fc.property(fc.uniqueArray(name, { minLength: 2, maxLength: 6 }), (names) => {
        const [s, ...rest] = names as [string, ...string[]];
        const resources: TopoResource[] = [source(s), ...rest.map((n) => actor(n))];
        rest.forEach((n, i) => resources.push(route(`${n}-${i}`, i % 2 ? s : rest[0]!, n, { events: ['actor.stopped', n], transforms: [n] })));
        const out = renderMermaid(buildTopology(resources));
        const parsed = checkMermaid(out);
        expect(parsed.problems).toEqual([]);
        const labels = [...parsed.nodes.values()].map((l) => decodeLabel(l).split('\n')[0]);
        for (const n of names) expect(labels).toContain(n.replace(/\s+/g, ' '));
      }),
      { numRuns: 200 },
    );
  });

  it('escapes characters that would end a label', () => {
    expect(mermaidText('a"b|c<d>#e;f`g')).toBe('a#34;b#124;c#60;d#62;#35;e#59;f#96;g');
  });
});

describe('dot', () => {
  it('quotes ids and labels and styles marks', () => {
    const t = buildPlanTopology([source('s"1'), actor('a\\b')], [source('s"1'), actor('a\\b'), route('r', 's"1', 'a\\b')], new Map([['route.r', 'create' as Mark]]));
    const out = renderDot(t);
    expect(out.startsWith('digraph orgloop {\n')).toBe(true);
    expect(out.trimEnd().endsWith('}')).toBe(true);
    expect(out).toContain('label="s\\"1\\nsource: webhook"');
    expect(out).toContain('label="a\\\\b\\nactor: command"');
    expect(out).toMatch(/"s_s_1" -> "r_r" \[label="resource.changed", color="#1a7f37"/);
    expect(out).toMatch(/"r_r" \[label="\+ r", shape=hexagon, style="filled,bold", fillcolor="#dafbe1"/);
    // balanced quotes on every line: nothing escapes a string
    for (const line of out.split('\n')) expect((line.replace(/\\./g, '').match(/"/g) ?? []).length % 2).toBe(0);
  });
});
