// Graphviz dot of a Topology: `dot -Tsvg` renders it. Ids are quoted, labels escaped.

import type { Mark, TopoNode, Topology } from './render-model.js';

function q(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}

const SHAPE: Record<TopoNode['kind'], string> = {
  source: 'shape=ellipse',
  route: 'shape=hexagon',
  actor: 'shape=box, style="rounded"',
  missing: 'shape=box, style="dashed"',
};

const NODE_MARK: Record<Mark, string> = {
  create: 'style="filled,bold", fillcolor="#dafbe1", color="#1a7f37", fontcolor="#1a7f37"',
  update: 'style="filled,bold", fillcolor="#fff8c5", color="#9a6700"',
  replace: 'style="filled,bold", fillcolor="#ffe2cc", color="#bc4c00"',
  delete: 'style="filled,dashed", fillcolor="#ffebe9", color="#cf222e", fontcolor="#cf222e"',
};

const EDGE_MARK = {
  create: 'color="#1a7f37", fontcolor="#1a7f37", penwidth=2',
  delete: 'color="#cf222e", fontcolor="#cf222e", style=dashed, penwidth=2',
} as const;

function label(n: TopoNode): string {
  const marker = n.mark === 'create' ? '+ ' : n.mark === 'delete' ? '- ' : n.mark === 'update' ? '~ ' : n.mark === 'replace' ? '-/+ ' : '';
  if (n.kind === 'route') return marker + n.name;
  if (n.kind === 'missing') return `${marker}${n.name}\n(not declared)`;
  return `${marker}${n.name}\n${n.kind}: ${n.provider}`;
}

export function renderDot(t: Topology): string {
  const lines = ['digraph orgloop {', '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=11];', '  edge [fontname="Helvetica", fontsize=9];'];
  for (const n of t.nodes) {
    // a marked node's style replaces the shape's own style (dot keeps the last attribute)
    const attrs = [`label=${q(label(n))}`, SHAPE[n.kind]];
    if (n.mark) attrs.push(NODE_MARK[n.mark]);
    lines.push(`  ${q(n.id)} [${attrs.join(', ')}];`);
  }
  for (const e of t.edges) {
    const attrs: string[] = [];
    if (e.label) attrs.push(`label=${q(e.label)}`);
    if (e.kind === 'loop') attrs.push('style=dashed', 'constraint=false');
    if (e.mark) attrs.push(EDGE_MARK[e.mark]);
    lines.push(`  ${q(e.from)} -> ${q(e.to)}${attrs.length ? ` [${attrs.join(', ')}]` : ''};`);
  }
  if (t.loggers.length) lines.push(`  // loggers (observe every step): ${t.loggers.join(', ').replace(/[\r\n]/g, ' ')}`);
  lines.push('}');
  return lines.join('\n') + '\n';
}
