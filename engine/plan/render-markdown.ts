// A plan as a pull-request comment. GitHub rejects comments over 65,536 characters, so the
// output is built against a budget: the summary, topology warnings and every destroy come
// first and always; per-object details fill what is left and are cut with a note.

import { Chalk } from 'chalk';
import type { Plan, ResourceChange } from './types.js';
import { changeLines, moveLines, NO_CHANGES, summaryLine, topologyLines, trafficHeading, trafficLines } from './render-text.js';
import { planPictureMarkdown } from '../graph/render-plan-picture.js';

export const MARKDOWN_LIMIT = 65_000;

export interface MarkdownOptions {
  /** total character budget (default 65,000) */
  limit?: number;
  /** heading, e.g. the project name */
  title?: string;
}

const plain = new Chalk({ level: 0 });
const code = (s: string) => '`' + s.replace(/`/g, "'") + '`';

export function renderMarkdown(plan: Plan, opts: MarkdownOptions = {}): string {
  const limit = opts.limit ?? MARKDOWN_LIMIT;
  const head: string[] = [`### ${opts.title ?? 'orgloop plan'}`, ''];
  if (!plan.changes.length && !plan.moves?.length) {
    head.push(`**${NO_CHANGES}**`, '');
  } else {
    const s = plan.summary;
    head.push(`**${summaryLine(s, plan.moves?.length)}**` + (s.replace ? ` (${s.replace} replaced)` : '') + ` ${s.unchanged} unchanged.`, '');
  }
  const notes = [...plan.warnings.map((w) => `⚠️ ${w}`), ...moveLines(plan.moves), ...topologyLines(plan.topology)];
  // Topology lists can be long (fan-out of thousands of sources); keep their share bounded.
  const noteBudget = Math.floor(limit * 0.15);
  let used = 0;
  const shownNotes: string[] = [];
  for (const n of notes) {
    const line = `- ${n.replace(/^! /, '⚠️ ')}`;
    if (used + line.length + 1 > noteBudget) break;
    shownNotes.push(line);
    used += line.length + 1;
  }
  if (shownNotes.length) {
    head.push('**Topology**', '', ...shownNotes);
    if (shownNotes.length < notes.length) head.push(`- … and ${notes.length - shownNotes.length} more notes (see \`orgloop show --json\`)`);
    head.push('');
  }

  const lines = plan.traffic ? trafficLines(plan.traffic) : [];
  if (plan.traffic && lines.length) {
    // counts and event types only: PR comments are often public
    const shown = lines.slice(0, 60).map((l) => `- ${l.replace(/^! /, '⚠️ ')}`);
    head.push(`**${trafficHeading(plan.traffic)}**`, '', ...shown);
    if (shown.length < lines.length) head.push(`- … and ${lines.length - shown.length} more (see \`orgloop plan --json\`)`);
    head.push('');
  }

  const destroys = plan.changes.filter((c) => c.action === 'delete' || c.action === 'replace');
  const sections: string[] = [];
  if (destroys.length) {
    sections.push(`**To destroy (${destroys.length})**`, '');
    for (const c of destroys) {
      sections.push(`- ${c.action === 'replace' ? '-/+' : '-'} ${code(c.address)} — ${c.reason}`);
    }
    sections.push('');
  }

  let text = head.join('\n') + '\n' + sections.join('\n');
  const closing = '\n</details>\n';
  const tail = (n: number) => `\n_… ${n} more change${n === 1 ? '' : 's'} not shown (comment size limit); run \`orgloop show PLANFILE\` for the full plan._\n`;
  if (text.length + 200 > limit) {
    // Even the destroy list does not fit: keep whole lines, say how many are missing.
    return truncateLines(text, limit - 200) + tail(plan.changes.length) ;
  }
  if (!plan.changes.length) return text;

  // the picture of what changed gets at most a fifth of the budget (engine/graph/render-plan-picture)
  text += planPictureMarkdown(plan, Math.min(Math.floor(limit / 5), limit - text.length - 1000)) ?? '';
  text += `<details><summary>Details (${plan.changes.length} change${plan.changes.length === 1 ? '' : 's'})</summary>\n\n`;
  let shown = 0;
  const reserve = closing.length + tail(plan.changes.length).length + 16;
  for (const c of plan.changes) {
    const block = detailBlock(c);
    if (text.length + block.length + reserve > limit) break;
    text += block;
    shown++;
  }
  if (shown < plan.changes.length) text += tail(plan.changes.length - shown);
  return text + closing;
}

function detailBlock(c: ResourceChange): string {
  // GitHub colors a ```diff line by its first character, so lift the symbol to column 0.
  const lines = changeLines(c, plain).map((l) => {
    const safe = l.replace(/```/g, "'''");
    const m = /^( +)([-+~])/.exec(safe);
    if (!m || safe.startsWith('  #')) return safe;
    const mark = m[2] === '~' ? '!' : m[2];
    return mark + safe.slice(1);
  });
  return '```diff\n' + lines.join('\n') + '\n```\n';
}

function truncateLines(text: string, max: number): string {
  const cut = text.lastIndexOf('\n', max);
  return text.slice(0, cut > 0 ? cut : max) + '\n';
}
