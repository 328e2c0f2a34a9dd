// Mermaid flowchart of a Topology. Node ids come from render-model (only [A-Za-z0-9_]); every
// label is quoted and every character outside a small safe set is written as a Mermaid entity
// (#35; etc.), so no resource name can break the diagram.

import type { Mark, TopoNode, Topology } from './render-model.js';

const SAFE = /[A-Za-z0-9 _.,:/@+=*!?'()\-→]/;

export function mermaidText(s: string): string {
  let out = '';
  for (const ch of s.replace(/\s+/g, ' ')) out += SAFE.test(ch) ? ch : `#${ch.codePointAt(0)};`;
  return out;
}

const SHAPE: Record<TopoNode['kind'], [string, string]> = {
  source: ['([', '])'],
  route: ['{{', '}}'],
  actor: ['[[', ']]'],
  missing: ['[/', '/]'],
};

const CLASS_NAME: Record<Mark, string> = { create: 'added', update: 'changed', replace: 'replaced', delete: 'removed' };

const CLASS: Record<Mark, string> = {
  create: 'fill:#dafbe1,stroke:#1a7f37,color:#1a7f37,stroke-width:2px',
  update: 'fill:#fff8c5,stroke:#9a6700,color:#6b4800,stroke-width:2px',
  replace: 'fill:#ffe2cc,stroke:#bc4c00,color:#8a3700,stroke-width:2px',
  delete: 'fill:#ffebe9,stroke:#cf222e,color:#cf222e,stroke-width:2px,stroke-dasharray:5 3',
};

const LINK_STYLE = {
  create: 'stroke:#1a7f37,stroke-width:2px',
  delete: 'stroke:#cf222e,stroke-width:2px,stroke-dasharray:5 3',
} as const;

function nodeLabel(n: TopoNode): string {
  const marker = n.mark === 'create' ? '+ ' : n.mark === 'delete' ? '- ' : n.mark === 'update' ? '~ ' : n.mark === 'replace' ? '-/+ ' : '';
  const title = mermaidText(marker + n.name);
  if (n.kind === 'route') return title;
  if (n.kind === 'missing') return `${title}<br/>${mermaidText('(not declared)')}`;
  return `${title}<br/>${mermaidText(`${n.kind}: ${n.provider}`)}`;
}

export function renderMermaid(t: Topology, opts: { direction?: 'LR' | 'TD' } = {}): string {
  const lines: string[] = [`flowchart ${opts.direction ?? 'LR'}`];
  if (t.nodes.length === 0) {
    lines.push('  empty["(no sources, routes or actors)"]');
    return lines.join('\n') + '\n';
  }
  for (const n of t.nodes) {
    const [open, close] = SHAPE[n.kind];
    lines.push(`  ${n.id}${open}"${nodeLabel(n)}"${close}`);
  }
  const linkStyles: string[] = [];
  t.edges.forEach((e, i) => {
    const arrow = e.kind === 'loop' || e.mark === 'delete' ? '-.->' : '-->';
    const label = e.label ? `|"${mermaidText(e.label)}"|` : '';
    lines.push(`  ${e.from} ${arrow}${label} ${e.to}`);
    if (e.mark) linkStyles.push(`  linkStyle ${i} ${LINK_STYLE[e.mark]}`);
  });
  const marks = new Map<Mark, string[]>();
  for (const n of t.nodes) if (n.mark) marks.set(n.mark, [...(marks.get(n.mark) ?? []), n.id]);
  for (const [mark, ids] of marks) {
    lines.push(`  classDef ${CLASS_NAME[mark]} ${CLASS[mark]}`);
    lines.push(`  class ${ids.join(',')} ${CLASS_NAME[mark]}`);
  }
  lines.push(...linkStyles);
  if (t.loggers.length) lines.push(`  %% loggers (observe every step): ${t.loggers.map(mermaidText).join(', ')}`);
  return lines.join('\n') + '\n';
}
