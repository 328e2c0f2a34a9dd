// Human plan output in Terraform's shape: symbols + ~ - -/+, a reason per object, destroys and
// replaces first, topology notes, and the summary line.

import { Chalk, type ChalkInstance } from 'chalk';
import type { FieldChange, Plan, PlanTraffic, ResourceChange, TopologyReport } from './types.js';
import { flatten, showValue } from './values.js';

export interface TextOptions {
  color: boolean;
}

const SYMBOL: Record<ResourceChange['action'], string> = { create: '+', update: '~', delete: '-', replace: '-/+' };
const VERB: Record<ResourceChange['action'], string> = {
  create: 'will be created',
  update: 'will be updated in-place',
  delete: 'will be destroyed',
  replace: 'must be replaced',
};

// Already in the header line (address and [provider]).
const IDENTITY = new Set(['id', 'name', 'connector', 'type']);

export const NO_CHANGES = 'No changes. Your organization matches the configuration.';

export function summaryLine(s: Plan['summary'], moved = 0): string {
  return `Plan: ${s.add} to add, ${s.change} to change, ${s.destroy} to destroy${moved ? `, ${moved} moved` : ''}.`;
}

/** `moved:` renames, one line each, with the pending deliveries that go along. */
export function moveLines(moves: Plan['moves']): string[] {
  return (moves ?? []).map((m) => `${m.from} has moved to ${m.to} (${m.pending} pending deliver${m.pending === 1 ? 'y goes' : 'ies go'} with it)`);
}

export function renderText(plan: Plan, opts: TextOptions): string {
  const c = new Chalk({ level: opts.color ? 1 : 0 });
  const out: string[] = [];
  for (const w of plan.warnings) out.push(c.yellow(`Warning: ${w}`));
  if (plan.warnings.length) out.push('');

  const topo = topologyLines(plan.topology);
  const moves = moveLines(plan.moves);
  if (!plan.changes.length && !moves.length) {
    out.push(c.green.bold(NO_CHANGES));
    if (topo.length) out.push('', c.bold('Topology:'), ...topo.map((l) => '  ' + l));
    return out.join('\n') + '\n';
  }

  out.push('orgloop will perform the following actions:', '');
  for (const m of moves) out.push(c.bold(`  # ${m}`), '');
  for (const ch of plan.changes) out.push(...changeLines(ch, c), '');
  if (topo.length) out.push(c.bold('Topology:'), ...topo.map((l) => '  ' + l), '');
  const traffic = plan.traffic ? trafficLines(plan.traffic) : [];
  if (traffic.length) out.push(c.bold(trafficHeading(plan.traffic!) + ':'), ...traffic.map((l) => '  ' + l), '');
  out.push(c.bold(summaryLine(plan.summary, plan.moves?.length)));
  return out.join('\n') + '\n';
}

function colorFor(c: ChalkInstance, action: string): ChalkInstance {
  return action === 'create' || action === '+' ? c.green : action === 'delete' || action === '-' ? c.red : c.yellow;
}

export function changeLines(ch: ResourceChange, c: ChalkInstance): string[] {
  const col = colorFor(c, ch.action);
  const lines = [
    c.bold(`  # ${ch.address} ${VERB[ch.action]}`) + c.dim(` (${ch.reason})`),
    col(`${SYMBOL[ch.action].padStart(3)} ${ch.address}`) + c.dim(` [${ch.provider}]`),
  ];
  if (ch.traffic) lines.push(c.dim(`      # traffic (${ch.traffic.window}): events matched ${countChange(ch.traffic.matched_before, ch.traffic.matched_after)}`));
  if (ch.action === 'create' && ch.after) {
    for (const { path, value } of flatten(ch.after.attributes)) {
      if (!IDENTITY.has(path)) lines.push(c.green(`      + ${path} = ${showValue(value)}`));
    }
  } else if (ch.action === 'delete' && ch.before) {
    for (const { path, value } of flatten(ch.before.attributes)) {
      if (!IDENTITY.has(path)) lines.push(c.red(`      - ${path} = ${showValue(value)}`));
    }
  } else {
    for (const f of ch.fields) lines.push(fieldLine(f, c));
  }
  if (ch.prompt && ch.action !== 'delete') {
    const sym = ch.action === 'create' ? '+' : '~';
    lines.push(colorFor(c, sym)(`      ${sym} prompt${ch.prompt.file ? ` (${ch.prompt.file})` : ''}:`));
    if (ch.prompt.diff === null) lines.push(c.dim('          (prompt text not available to diff)'));
    else for (const l of ch.prompt.diff.split('\n')) lines.push('          ' + diffLineColor(l, c));
  }
  return lines;
}

function fieldLine(f: FieldChange, c: ChalkInstance): string {
  const tail = f.forces_replace ? c.red(' # forces replacement') : '';
  if (f.sensitive_other_key) return c.yellow(`      ~ ${f.path} = (sensitive value; hashed with another state key, cannot tell whether it changed)`) + tail;
  if (f.sensitive_value_changed) return c.yellow(`      ~ ${f.path} = (sensitive value changed)`) + tail;
  if (f.before === undefined) return c.green(`      + ${f.path} = ${showValue(f.after)}`) + tail;
  if (f.after === undefined) return c.red(`      - ${f.path} = ${showValue(f.before)}`) + tail;
  return c.yellow(`      ~ ${f.path} = ${showValue(f.before)} -> ${showValue(f.after)}`) + tail;
}

function diffLineColor(l: string, c: ChalkInstance): string {
  if (l.startsWith('+++') || l.startsWith('---')) return c.bold(l);
  if (l.startsWith('+')) return c.green(l);
  if (l.startsWith('-')) return c.red(l);
  if (l.startsWith('@@')) return c.cyan(l);
  return l;
}

/** `12 -> 40 (+28)` */
export function countChange(before: number, after: number): string {
  const d = after - before;
  return `${before} -> ${after} (${d > 0 ? '+' : ''}${d})`;
}

export function trafficHeading(t: PlanTraffic): string {
  return `Traffic over the last ${t.window} (${t.events} event${t.events === 1 ? '' : 's'} of the affected sources)`;
}

/** The traffic annotation as plain lines (shared by the markdown renderer): counts and event types only. */
export function trafficLines(t: PlanTraffic): string[] {
  if (t.skipped) return [`not measured: ${t.skipped}`];
  const out: string[] = [];
  for (const r of t.routes) {
    const dropped = r.dropped_before !== undefined ? `; dropped by transforms ${countChange(r.dropped_before, r.dropped_after ?? 0)}` : '';
    out.push(`${r.route}: events matched ${countChange(r.matched_before, r.matched_after)}${dropped}`);
  }
  for (const a of t.actors) out.push(`${a.actor}: deliveries ${countChange(a.matched_before, a.matched_after)}`);
  for (const u of t.unrouted) out.push(`! ${u.count} event${u.count === 1 ? '' : 's'} "${u.event}" from ${u.source} would have been routed nowhere`);
  for (const l of t.loops) out.push(`! loop ${[...l.actors, l.actors[0]].join(' -> ')} would have fired on ${l.events} event${l.events === 1 ? '' : 's'}`);
  const run = (t.transforms ?? []).filter((x) => x.evaluated);
  if (run.length) out.push(`(transforms run over the events: ${run.map((x) => x.transform).join(', ')})`);
  const skipped = (t.transforms ?? []).filter((x) => !x.evaluated);
  if (skipped.length) out.push(`(not evaluated, counted as passing: ${skipped.map((x) => `${x.transform} (${x.reason})`).join(', ')})`);
  return out;
}

/** Topology notes as plain lines (shared by the markdown renderer). */
export function topologyLines(t: TopologyReport): string[] {
  const out: string[] = [];
  for (const s of t.unrouted_sources.filter((x) => x.new)) out.push(`! ${s.source} has no routes: its events will be recorded but delivered nowhere`);
  for (const e of t.unrouted_event_types) out.push(`! events "${e.event}" from ${e.source} become unrouted`);
  for (const a of t.actors_without_routes.filter((x) => x.new)) out.push(`! ${a.actor} is left without routes: nothing will wake it`);
  for (const l of t.new_cycles) {
    out.push(`! new actor.stopped loop: ${[...l.actors, l.actors[0]].join(' -> ')} (via ${l.routes.join(', ')}; cut at max_hops)`);
  }
  for (const f of t.fanout_changes) out.push(`~ fan-out of ${f.source}: ${f.before} -> ${f.after} route${f.after === 1 ? '' : 's'}`);
  if (t.in_flight) {
    if (t.in_flight.draining) out.push(`~ ${t.in_flight.draining} pending deliver${t.in_flight.draining === 1 ? 'y' : 'ies'} on removed routes will drain`);
    if (t.in_flight.cancelled) {
      out.push(
        `! ${t.in_flight.cancelled} pending deliver${t.in_flight.cancelled === 1 ? 'y' : 'ies'} to removed actors will be cancelled (renamed? declare it under moved: to carry ${t.in_flight.cancelled === 1 ? 'it' : 'them'} over; apply --auto-approve refuses without --cancel-pending)`,
      );
    }
  }
  return out;
}
