// The Mermaid picture of what a plan changes, as a Markdown section for PR comments: only the
// changed nodes and their neighbours, so it stays readable (and small) in large topologies.

import type { Plan } from '../plan/types.js';
import { buildPlanTopology, focusChanged, fromPlan } from './render-model.js';
import { renderMermaid } from './render-mermaid.js';

/** null when nothing in the routing topology changed, or the picture would not fit `budget`. */
export function planPictureMarkdown(plan: Plan, budget: number): string | null {
  if (!plan.changes.length || !plan.desired?.resources) return null;
  const { before, after, actions } = fromPlan(plan);
  const topology = focusChanged(buildPlanTopology(before, after, actions));
  if (!topology.nodes.length) return null;
  const section =
    '<details open><summary>Topology changes (green added, yellow changed, red removed)</summary>\n\n' +
    '```mermaid\n' +
    renderMermaid(topology) +
    '```\n\n</details>\n\n';
  if (section.length <= budget) return section;
  if (budget < 200) return null;
  return `_The topology picture is too large for this comment; draw it with \`orgloop graph --plan PLANFILE --changed\`._\n\n`;
}
