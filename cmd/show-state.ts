// Text of `orgloop show` for the applied state: Terraform's `terraform show` layout, a header
// per resource and its attributes one per line, flattened to the paths plan uses.

import { Chalk } from 'chalk';
import type { ShownState } from '../engine/state-edit/show.js';
import { flatten, showValue } from '../engine/plan/values.js';

/** `2026-12-07 03:40:12Z`, as history prints times */
export function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function renderState(s: ShownState, color: boolean): string {
  const c = new Chalk({ level: color ? 1 : 0 });
  if (!s.version) return `No applied state at ${s.state}: nothing has been applied yet (run \`orgloop apply\`).\n`;
  const v = s.version;
  const git = v.git ? `, commit ${v.git.commit.slice(0, 12)}${v.git.dirty ? '-dirty' : ''}` : '';
  const out = [
    c.bold(`State ${s.state}: version ${s.serial} (${v.kind}), ${shortTime(v.created_at)} by ${v.who}${git}`),
    `Project ${s.project}; lineage ${s.lineage}${v.message ? `; message: ${v.message.replace(/\s+/g, ' ').trim()}` : ''}`,
    '',
  ];
  if (!s.resources.length) out.push('No resources (the last version emptied the state).', '');
  for (const r of s.resources) {
    out.push(c.bold(`# ${r.address}`) + c.dim(` [${r.provider}]`));
    const lines: Array<[string, string]> = flatten(r.attributes).map(({ path, value }) => [path, showValue(value)]);
    if (r.depends_on.length) lines.push(['depends_on', r.depends_on.join(', ')]);
    for (const { path, value } of flatten(r.provider_state ?? {})) lines.push([`provider_state.${path}`, showValue(value)]);
    if (r.prompt_sha256) lines.push(['prompt_sha256', r.prompt_sha256]);
    const width = Math.max(0, ...lines.map(([k]) => k.length));
    for (const [k, val] of lines) out.push(`    ${k.padEnd(width)} = ${val}`);
    out.push('');
  }
  out.push(`${s.resources.length} resource${s.resources.length === 1 ? '' : 's'}. Compare with the project files: \`orgloop plan\`.`);
  return out.join('\n') + '\n';
}
