import type { Command } from 'commander';
import { EXIT } from '../engine/errors.js';
import { action, globals, workspaceLine, printJson } from './util.js';
import { stateKey } from './plan-common.js';

interface DriftOpts {
  json?: boolean;
  detailedExitcode?: boolean;
}

export function register(program: Command): void {
  program
    .command('drift')
    .description('compare the applied state with reality: prompt files, secrets, provider-managed objects, executors')
    .option('--json', 'machine-readable report: { drifted, items: [{ kind, address, detail, message }], errors, notes, checked }')
    .option('--detailed-exitcode', 'accepted for symmetry with plan; drift always exits 2 when found')
    .addHelpText(
      'after',
      `
Reads only the state store and the world, never the YAML: prompt files re-read and
compared with the applied text, each secret's \${VAR} re-resolved (shell, then .env) and
compared by salted hash, objects a provider manages (e.g. a registered GitHub webhook)
read back through the provider, and running executors compared with the current version.
An actor that is failing is a health problem, not drift (see \`orgloop status\`).

Exit codes: 0 no drift; 2 drift found (each drifted item is named); 1 error, or a check
could not be made (e.g. a provider's API unreachable) and no drift was found otherwise.`,
    )
    .action(action((opts: DriftOpts, cmd: Command) => runDrift(cmd, opts)));
}

/** `orgloop drift`, also reached as `orgloop plan --refresh-only`. Returns the exit code. */
export async function runDrift(cmd: Command, opts: DriftOpts): Promise<number> {
  const { openWorkspaceStoreToRead } = await import('../engine/workspace.js');
  const { detectDrift, renderDriftText } = await import('../engine/drift/drift.js');
  const g = globals(cmd);
  const { store } = await openWorkspaceStoreToRead(g);
  try {
    const report = await detectDrift(store, { stateKey });
    if (opts.json) printJson(report);
    else process.stdout.write(workspaceLine(g) + renderDriftText(report));
    if (report.drifted) return EXIT.CHANGES;
    return report.errors.length ? EXIT.ERROR : EXIT.OK;
  } finally {
    await store.close();
  }
}
