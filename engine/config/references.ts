// Checks across resources: unique names, routes pointing at things that exist, actor.stopped
// routes fed by something that can stop. Fills in each route's dependsOn.

import { sameEventNames } from '../../providers/lib/event-aliases.js';
import { getProvider } from '../../providers/registry.js';
import type { DesiredResource, RouteSpec } from '../graph/types.js';
import type { Entry, Section } from './collect.js';
import type { Diagnostics } from './diagnostics.js';
import { label } from './resources.js';
import { closest, didYouMean } from './suggest.js';
import type { SourceProvider } from '../../providers/types.js';

export interface Built {
  entry: Entry;
  resource?: DesiredResource;
}

const NAME_FIELD: Record<Section, string> = { sources: 'id', actors: 'id', transforms: 'name', loggers: 'name', routes: 'name' };
const WHAT: Record<Section, string> = { sources: 'source id', actors: 'actor id', transforms: 'transform name', loggers: 'logger name', routes: 'route name' };

const nameOf = (e: Entry): string | undefined => {
  const v = (e.value as Record<string, unknown>)[NAME_FIELD[e.section]];
  return typeof v === 'string' && v ? v : undefined;
};

const where = (e: Entry): string => {
  const p = e.src.startOf(e.value) ?? e.src.pos(e.path);
  return `${e.src.display}:${p.line}:${p.col}`;
};

/**
 * Why a source is not expected to emit `ev`, or null. A source emits its event type
 * (resource.changed, or a webhook's event_type), what its provider declares in `emits`, and
 * platform events: when the provider lists them all (`platformEvents`) anything else is reported;
 * when it cannot (a generic webhook passes on whatever a request names), only a near miss of a
 * known name is, as the likely typo it is.
 */
function unlikelyEvent(ev: unknown, p: SourceProvider, config: Record<string, unknown>): string | null {
  if (typeof ev !== 'string' || ev === 'actor.stopped') return null;
  const known = [typeof config.event_type === 'string' ? config.event_type : 'resource.changed', ...(p.emits ?? []), ...(p.platformEvents ?? [])];
  if (sameEventNames(ev).some((n) => known.includes(n))) return null;
  if (p.platformEvents) return `never emits ${ev}; it emits ${known.join(', ')}`;
  const guess = closest(ev, known);
  return guess ? `emits ${guess}, not ${ev} (did you mean ${guess}?)` : null;
}

export function checkReferences(built: Built[], diags: Diagnostics): void {
  const first: Record<Section, Map<string, Built>> = {
    sources: new Map(),
    actors: new Map(),
    transforms: new Map(),
    loggers: new Map(),
    routes: new Map(),
  };
  for (const b of built) {
    const name = nameOf(b.entry);
    if (name === undefined) continue;
    const seen = first[b.entry.section];
    const prior = seen.get(name);
    if (prior) {
      diags.at(b.entry.src, [...b.entry.path, NAME_FIELD[b.entry.section]], `duplicate ${WHAT[b.entry.section]} "${name}" (first declared at ${where(prior.entry)})`);
      b.resource = undefined;
    } else seen.set(name, b);
  }
  for (const [id, b] of first.actors) {
    const src = first.sources.get(id);
    if (src) {
      diags.at(b.entry.src, [...b.entry.path, 'id'], `actor id "${id}" is also a source id (source declared at ${where(src.entry)}); routes could not tell them apart`);
    }
  }

  const eventSources = () => [...first.sources.keys(), ...first.actors.keys()];
  // a verdict depends on the name, the provider and the source's event_type, which thousands of
  // routes repeat; a near-miss search compares the name with every known one
  const verdicts = new Map<string, string | null>();
  const unlikelyEventOnce = (ev: unknown, p: SourceProvider, config: Record<string, unknown>): string | null => {
    if (typeof ev !== 'string') return null;
    const key = `${p.name}\u0000${typeof config.event_type === 'string' ? `=${config.event_type}` : '-'}\u0000${ev}`;
    let why = verdicts.get(key);
    if (why === undefined) verdicts.set(key, (why = unlikelyEvent(ev, p, config)));
    return why;
  };
  for (const b of first.routes.values()) {
    const e = b.entry;
    const route = e.value as Record<string, any>;
    const spec = b.resource?.spec as RouteSpec | undefined;
    const whenSource = spec?.when.source ?? route.when?.source;
    const actor = spec?.then.actor ?? route.then?.actor;
    const events: unknown[] = spec?.when.events ?? (Array.isArray(route.when?.events) ? route.when.events : []);
    const deps: string[] = [];
    let ok = true;
    const fail = (path: (string | number)[], message: string) => {
      diags.at(e.src, [...e.path, ...path], `${label(e)}: ${message}`);
      ok = false;
    };

    if (typeof whenSource === 'string') {
      const src = first.sources.get(whenSource);
      if (src) {
        deps.push(`source.${whenSource}`);
        if (events.includes('actor.stopped')) {
          const connector = src.resource?.provider;
          const p = connector ? getProvider('source', connector) : undefined;
          if (p && !(p.emits ?? []).includes('actor.stopped')) {
            fail(['when', 'events'], `actor.stopped events come from actors, but "${whenSource}" is a ${connector} source that never emits them (set when.source to an actor id)`);
          }
        }
        const p = src.resource ? getProvider('source', src.resource.provider) : undefined;
        if (p && src.resource) {
          const config = (src.resource.spec as { config?: Record<string, unknown> }).config ?? {};
          events.forEach((ev, i) => {
            const why = unlikelyEventOnce(ev, p, config);
            if (why) diags.at(e.src, [...e.path, 'when', 'events', i], `${label(e)}: "${whenSource}" (${p.name}) ${why}`, 'warning');
          });
        }
      } else if (first.actors.has(whenSource)) {
        deps.push(`actor.${whenSource}`);
      } else {
        fail(['when', 'source'], `unknown source "${whenSource}" in when.source (not a declared source or actor id)${didYouMean(whenSource, eventSources())}`);
      }
    }
    if (typeof actor === 'string') {
      if (first.actors.has(actor)) deps.push(`actor.${actor}`);
      else {
        const hint = first.sources.has(actor) ? ` ("${actor}" is a source; routes deliver to actors)` : didYouMean(actor, first.actors.keys());
        fail(['then', 'actor'], `unknown actor "${actor}" in then.actor${hint}`);
      }
    }
    const list: unknown[] = Array.isArray(route.transforms) ? route.transforms : [];
    list.forEach((t, i) => {
      const name = typeof t === 'string' ? t : (t as { ref?: unknown })?.ref;
      if (typeof name !== 'string') return;
      if (first.transforms.has(name)) deps.push(`transform.${name}`);
      else fail(typeof t === 'string' ? ['transforms', i] : ['transforms', i, 'ref'], `unknown transform "${name}" in transforms[${i}]${didYouMean(name, first.transforms.keys())}`);
    });
    if (b.resource) {
      if (ok) b.resource.dependsOn = [...new Set(deps)];
      else b.resource = undefined;
    }
  }
}
