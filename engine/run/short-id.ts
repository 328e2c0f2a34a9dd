// Ids as people paste them: a full id, or any prefix of one (the console and the `console`
// logger print short forms). A prefix naming several ids is an error that lists them.

import { UserError } from '../errors.js';
import type { IdKind, Inspection } from '../../state/store.js';

const PREFIX: Record<IdKind, string> = { event: 'evt_', delivery: 'dlv_', trace: 'trc_' };
const LIST = 10;

/**
 * The full id `text` names: itself when it exists, else the one id it is a prefix of.
 * Null when nothing matches; a UserError listing candidates when several do.
 */
export async function resolveId(store: Pick<Inspection, 'idsWithPrefix'>, kind: IdKind, text: string): Promise<string | null> {
  const t = text.trim().toLowerCase();
  // below the prefix and one time character a "prefix" names half the store: treat it as a typo
  if (!/^[a-z0-9_]+$/.test(t) || t.length < PREFIX[kind].length + 1) return null;
  const found = await store.idsWithPrefix(kind, t, LIST + 1);
  if (found.length <= 1) return found[0] ?? null;
  if (found.includes(t)) return t;
  const shown = found.slice(0, LIST).map((id) => `  ${id}`);
  throw new UserError(
    `"${text}" is the start of ${found.length > LIST ? `more than ${LIST}` : found.length} ${kind} ids; give more characters:\n${shown.join('\n')}${found.length > LIST ? '\n  …' : ''}`,
  );
}

/** resolveId, or a UserError saying nothing matched and where to look. */
export async function requireId(store: Pick<Inspection, 'idsWithPrefix'>, kind: IdKind, text: string, hint: string): Promise<string> {
  const id = await resolveId(store, kind, text);
  if (!id) throw new UserError(`no ${kind} "${text}" (see \`${hint}\`)`);
  return id;
}
