// The topology picture: sources, routes and actors in three columns, edges between them, the
// loop edges (an actor's actor.stopped feeding a route) drawn dashed back to the left.

import { s } from './dom.js';
import type { TopoNode, Topology } from './api.js';

const W = 210;
const H = 46;
const GAP_Y = 14;
const COL_X = [20, 330, 640];

export interface NodeNotes {
  /** second line under the name (rates, backlog) */
  sub?: string;
  /** shown in red when set (errors, dead letters) */
  alert?: string;
}

export function drawTopology(t: Topology, notes: (n: TopoNode) => NodeNotes = () => ({})): SVGElement {
  const col = (n: TopoNode) => (n.kind === 'source' ? 0 : n.kind === 'route' ? 1 : 2);
  const columns: TopoNode[][] = [[], [], []];
  for (const n of t.nodes) columns[col(n)]!.push(n);
  for (const c of columns) c.sort((a, b) => a.name.localeCompare(b.name));
  const pos = new Map<string, { x: number; y: number }>();
  const rows = Math.max(1, ...columns.map((c) => c.length));
  const height = rows * (H + GAP_Y) + 40;
  columns.forEach((c, i) => {
    const offset = (height - c.length * (H + GAP_Y)) / 2;
    c.forEach((n, j) => pos.set(n.id, { x: COL_X[i]!, y: offset + j * (H + GAP_Y) }));
  });
  const svg = s('svg', { class: 'topology', width: COL_X[2]! + W + 30, height, viewBox: `0 0 ${COL_X[2]! + W + 30} ${height}`, role: 'img', 'aria-label': 'organization topology' });
  svg.append(
    s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, s('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#9aa5bd' }))),
  );
  for (const e of t.edges) {
    const a = pos.get(e.from);
    const b = pos.get(e.to);
    if (!a || !b) continue;
    let d: string;
    if (e.kind === 'loop') {
      // actor (right) back to route (middle): leave the actor's bottom, come into the route's bottom
      const x1 = a.x + W / 2;
      const y1 = a.y + H;
      const x2 = b.x + W / 2;
      const y2 = b.y + H;
      d = `M ${x1} ${y1} C ${x1} ${y1 + 40}, ${x2} ${y2 + 40}, ${x2} ${y2 + 2}`;
    } else {
      const x1 = a.x + W;
      const y1 = a.y + H / 2;
      const x2 = b.x - 2;
      const y2 = b.y + H / 2;
      d = `M ${x1} ${y1} C ${x1 + 50} ${y1}, ${x2 - 50} ${y2}, ${x2} ${y2}`;
    }
    svg.append(s('path', { class: `edge ${e.kind} ${e.mark ?? ''}`, d, 'marker-end': 'url(#arrow)' }, s('title', {}, `${e.kind}: ${e.label}`)));
  }
  for (const n of t.nodes) {
    const p = pos.get(n.id)!;
    const note = notes(n);
    svg.append(
      s(
        'g',
        { class: `node ${n.kind} ${n.mark ?? ''}`, transform: `translate(${p.x},${p.y})`, 'data-address': n.address },
        s('rect', { width: W, height: H }),
        s('text', { x: 10, y: 18 }, `${n.kind === 'missing' ? '? ' : ''}${n.name}${n.mark ? `  (${n.mark})` : ''}`),
        s('text', { x: 10, y: 35, class: note.alert ? 'sub err' : 'sub' }, note.alert ?? note.sub ?? n.provider),
        s('title', {}, `${n.address} [${n.provider}]`),
      ),
    );
  }
  return svg;
}
