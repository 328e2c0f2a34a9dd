// Saved plans (`plan -out FILE`): the plan plus the snapshot and prompt texts apply will write.
// Never holds secret values: secrets in the snapshot are templates and salted hashes.

import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { UserError } from '../errors.js';
import { planDocument } from './render-json.js';
import { PLAN_FORMAT_VERSION, type Plan } from './types.js';

export function writePlanFile(file: string, plan: Plan): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(planDocument(plan, { includeSnapshot: true })) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}

export function readPlanFile(file: string): Plan {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `plan file ${file} does not exist` : `cannot read plan file ${file}: ${(err as Error).message}`);
  }
  return parsePlanText(text, file);
}

/** A saved plan from its text (`file` names it in errors). */
export function parsePlanText(text: string, file: string): Plan {
  let doc: Partial<Plan>;
  try {
    doc = JSON.parse(text) as Partial<Plan>;
  } catch {
    throw new UserError(`${file} is not a plan file (not JSON); create one with \`orgloop plan -out ${file}\``);
  }
  if (!doc || typeof doc !== 'object' || doc.kind !== 'orgloop-plan') {
    throw new UserError(`${file} is not an orgloop plan file; create one with \`orgloop plan -out ${file}\``);
  }
  if (typeof doc.format_version !== 'number' || doc.format_version > PLAN_FORMAT_VERSION) {
    throw new UserError(
      `${file} has plan format ${String(doc.format_version)}, but this orgloop reads format ${PLAN_FORMAT_VERSION}; upgrade orgloop`,
    );
  }
  if (!doc.desired || typeof doc.desired !== 'object' || !doc.desired.resources || typeof doc.lineage !== 'string' || typeof doc.serial !== 'number') {
    throw new UserError(`${file} is an incomplete plan file (no snapshot); create it with \`orgloop plan -out ${file}\``);
  }
  return { blobs: {}, warnings: [], changes: [], ...doc } as Plan;
}
