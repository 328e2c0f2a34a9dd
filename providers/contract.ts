// The provider contract's version and the one gate every provider passes before orgloop uses it,
// built-in or from a package (DESIGN §7, "Provider packages"). A package whose default export
// fails here never reaches the registry: the loader turns the message into a validate error.
//
// The contract version changes only when a provider written for the old one would misbehave
// under the new one (a runtime call changes meaning or a required member appears). Adding
// optional members does not change it.

import type { Provider, ProviderKind } from './types.js';

export const CONTRACT_VERSION = 1;
/** contract versions this orgloop can run (a provider built for any of them works) */
export const SUPPORTED_CONTRACT_VERSIONS: readonly number[] = [1];

const KINDS: readonly ProviderKind[] = ['source', 'actor', 'transform', 'logger'];
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isFn = (v: unknown) => typeof v === 'function';

/** What a provider must have at runtime, per kind: one way to be called. */
function runtimeProblem(p: Record<string, unknown>): string | undefined {
  switch (p.kind) {
    case 'source':
      if (isFn(p.poll) || isFn(p.handleWebhook) || (isFn(p.nextFire) && isFn(p.fire))) return undefined;
      return 'a source needs poll(), handleWebhook(), or nextFire() with fire()';
    case 'actor':
      return isFn(p.deliver) ? undefined : 'an actor needs deliver()';
    case 'transform':
      return isFn(p.transform) ? undefined : 'a transform needs transform()';
    case 'logger':
      return isFn(p.open) ? undefined : 'a logger needs open()';
  }
  return undefined;
}

/**
 * Checks a value against the provider contract. `declared` is the version the provider says it
 * was built for: packages must state it (`contractVersion`); built-ins are compiled against this
 * very contract, so theirs is the current one. Returns the provider or a message saying why not.
 */
export function admitProvider(value: unknown, opts: { builtIn?: boolean } = {}): { provider: Provider } | { error: string } {
  if (!isObject(value)) return { error: 'its default export is not a provider object' };
  if (!KINDS.includes(value.kind as ProviderKind)) return { error: `kind must be one of ${KINDS.join(', ')} (got ${JSON.stringify(value.kind)})` };
  if (typeof value.name !== 'string' || !/^[\w@./-]+$/.test(value.name)) return { error: 'name must be a non-empty string of letters, digits, @ . / _ -' };
  if (!isObject(value.configSchema)) return { error: 'configSchema must be a JSON Schema object' };
  const version = value.contractVersion ?? (opts.builtIn ? CONTRACT_VERSION : undefined);
  if (version === undefined) return { error: `it does not declare contractVersion (import { contractVersion } from 'orgloop/sdk' and set it on the provider)` };
  if (typeof version !== 'number' || !SUPPORTED_CONTRACT_VERSIONS.includes(version)) {
    return { error: `it was built for provider contract version ${JSON.stringify(version)}; this orgloop supports ${SUPPORTED_CONTRACT_VERSIONS.join(', ')}` };
  }
  for (const list of ['sensitive', 'replaceOn', 'emits'] as const) {
    const v = value[list];
    if (v !== undefined && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) return { error: `${list} must be a list of strings` };
  }
  const problem = runtimeProblem(value);
  if (problem) return { error: problem };
  return { provider: value as unknown as Provider };
}
