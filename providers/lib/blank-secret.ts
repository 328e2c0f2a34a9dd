// An empty secret is the same mistake as an unset one. `GH_SECRET=` in .env used to resolve
// `secret: ${GH_SECRET}` to "", which the sources read as "no secret configured" and so accepted
// unsigned posts. validate, plan and start all refuse a blank value in a provider's sensitive
// field instead; the sources also fail closed on one (a blank secret never means "unsigned").

import { getPath } from './path.js';

/** True for "" and strings of only whitespace. */
export function isBlank(v: unknown): boolean {
  return typeof v === 'string' && v.trim() === '';
}

/** True when the field is present but empty: a blank string, or a list with a blank or no entry. */
export function blankValue(v: unknown): boolean {
  if (isBlank(v)) return true;
  return Array.isArray(v) && (v.length === 0 || v.some(isBlank));
}

/** Dotted paths among `paths` whose value in `config` is present but blank, with a message each. */
export function blankSecretIssues(config: Record<string, unknown>, paths: readonly string[] | undefined): Array<{ path: string; message: string }> {
  const out: Array<{ path: string; message: string }> = [];
  for (const p of paths ?? []) {
    if (!blankValue(getPath(config, p))) continue;
    out.push({
      path: p,
      message: `config.${p} is empty: an empty secret is an error like an unset one (it would turn checks off); set the value or remove the field`,
    });
  }
  return out;
}

export interface ConfiguredSecrets {
  /** the usable secrets, in order (any may match: rotation) */
  values: string[];
  /** a secret field is present but blank: the source must refuse every request */
  blank: boolean;
}

/** The secrets a source config sets under `fields` (each a string or a list of strings). */
export function configuredSecrets(config: Record<string, unknown>, fields: readonly string[] = ['secret']): ConfiguredSecrets {
  const values: string[] = [];
  let blank = false;
  for (const f of fields) {
    const v = config[f];
    if (v === undefined || v === null) continue;
    if (blankValue(v)) blank = true;
    if (typeof v === 'string' && !isBlank(v)) values.push(v);
    else if (Array.isArray(v)) for (const s of v) if (typeof s === 'string' && !isBlank(s)) values.push(s);
  }
  return { values, blank };
}

/** The 401 a source answers when its configured secret is blank (start refuses that config too). */
export const BLANK_SECRET_ERROR = 'the source secret is configured but empty: refusing the request (set the secret)';
