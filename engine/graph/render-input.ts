// Reading a saved plan for drawing only (no staleness checks: a picture of an old plan is fine).

import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';
import type { Plan } from '../plan/types.js';

export function readPlanForGraph(file: string): Plan {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read plan file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let plan: Plan;
  try {
    plan = JSON.parse(text) as Plan;
  } catch {
    throw new UserError(`${file} is not an orgloop plan file (not JSON)`);
  }
  if (!plan || plan.kind !== 'orgloop-plan' || !Array.isArray(plan.changes) || !plan.desired?.resources) {
    throw new UserError(`${file} is not an orgloop plan file (write one with \`orgloop plan -out FILE\`)`);
  }
  return plan;
}
