// Resource addresses: `kind.name`. Names may contain dots, so only the first dot separates.

import type { Address, ResourceKind } from './types.js';

export const KINDS: readonly ResourceKind[] = ['source', 'actor', 'transform', 'logger', 'route'];

export function parseAddress(address: string): { kind: ResourceKind; name: string } | null {
  const dot = address.indexOf('.');
  if (dot <= 0 || dot === address.length - 1) return null;
  const kind = address.slice(0, dot) as ResourceKind;
  if (!KINDS.includes(kind)) return null;
  return { kind, name: address.slice(dot + 1) };
}

/** Stable display order: by kind (sources first, routes last), then by name. */
export function compareAddresses(a: Address, b: Address): number {
  const pa = parseAddress(a);
  const pb = parseAddress(b);
  const ka = pa ? KINDS.indexOf(pa.kind) : KINDS.length;
  const kb = pb ? KINDS.indexOf(pb.kind) : KINDS.length;
  if (ka !== kb) return ka - kb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A selector for --target / --exclude: an exact address (`route.pr-review`), a whole kind
 * (`route`), or a glob with `*` (`route.pr-*`).
 */
export function addressMatcher(selector: string): (address: Address) => boolean {
  if (KINDS.includes(selector as ResourceKind)) return (a) => a.startsWith(selector + '.');
  if (selector.includes('*')) {
    const re = new RegExp('^' + selector.split('*').map(escapeRegExp).join('.*') + '$');
    return (a) => re.test(a);
  }
  return (a) => a === selector;
}

/** Validates a selector so a typo fails loudly instead of silently matching nothing. */
export function checkSelector(selector: string): string | null {
  if (KINDS.includes(selector as ResourceKind)) return null;
  if (!parseAddress(selector)) {
    return `"${selector}" is not a resource address (expected KIND.NAME with KIND one of ${KINDS.join(', ')}, or a bare KIND)`;
  }
  return null;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
