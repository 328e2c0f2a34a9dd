// --target / --exclude: plan only part of the change, like Terraform's resource targeting.
// The result is the prior snapshot with the selected objects taken from the desired one.

import type { Address, StateSnapshot } from '../graph/types.js';
import { addressMatcher, checkSelector } from '../graph/address.js';
import { UserError } from '../errors.js';

export interface Targeting {
  target: string[];
  exclude: string[];
}

export function applyTargeting(prior: StateSnapshot | null, desired: StateSnapshot, t: Targeting): { snapshot: StateSnapshot; warnings: string[]; selected: Set<Address> } {
  for (const s of [...t.target, ...t.exclude]) {
    const problem = checkSelector(s);
    if (problem) throw new UserError(problem);
  }
  const priorRes = prior?.resources ?? {};
  const all = new Set<Address>([...Object.keys(priorRes), ...Object.keys(desired.resources)]);
  const warnings: string[] = [];
  const targets = t.target.map(addressMatcher);
  const excludes = t.exclude.map(addressMatcher);
  for (const [i, s] of [...t.target, ...t.exclude].entries()) {
    const m = i < targets.length ? targets[i] : excludes[i - targets.length];
    if (![...all].some(m)) warnings.push(`--${i < targets.length ? 'target' : 'exclude'} ${s} matches no resource`);
  }

  let selected = new Set<Address>(targets.length ? [...all].filter((a) => targets.some((m) => m(a))) : all);
  if (targets.length) {
    // A targeted object brings what it depends on, or it could not exist.
    const queue = [...selected];
    while (queue.length) {
      const a = queue.pop()!;
      for (const d of desired.resources[a]?.depends_on ?? []) {
        if (!selected.has(d) && all.has(d)) {
          selected.add(d);
          queue.push(d);
        }
      }
    }
  }
  selected = new Set([...selected].filter((a) => !excludes.some((m) => m(a))));

  const resources: StateSnapshot['resources'] = { ...priorRes };
  for (const a of selected) {
    if (desired.resources[a]) resources[a] = desired.resources[a];
    else delete resources[a];
  }
  for (const [a, r] of Object.entries(resources)) {
    for (const d of r.depends_on) {
      if (!resources[d]) {
        throw new UserError(
          `with --target/--exclude, ${a} would refer to ${d}, which would not exist; ` +
            `${desired.resources[d] ? `include ${d} too` : `also target ${a}`} or widen the selection`,
        );
      }
    }
  }
  const sorted: StateSnapshot['resources'] = {};
  for (const a of Object.keys(resources).sort()) sorted[a] = resources[a];
  warnings.push('Resource targeting is in effect: the plan may not cover every change in the configuration.');
  return { snapshot: { ...desired, resources: sorted }, warnings, selected };
}
