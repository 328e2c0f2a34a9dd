import type { Command } from 'commander';
import { EXIT } from '../engine/errors.js';
import { action, globals, printJson } from './util.js';
import { stateKey } from './plan-common.js';
import { whoAmI } from './who.js';

export function register(program: Command): void {
  program
    .command('import')
    .description('adopt an existing external object (a GitHub repository webhook) as the one a declared resource manages')
    .argument('<address>', 'the resource, declared in the project, e.g. source.gh-hook')
    .argument('<id>', "the object's id at the provider, e.g. the webhook's numeric id")
    .option('--json', 'machine-readable: { address, id, serial, provider_state }')
    .addHelpText(
      'after',
      `
Like \`terraform import\`: only the state changes. A new version of kind "import" records that
ADDRESS manages object ID, so the next apply updates that object instead of creating a second
one (a webhook made by hand, or by an apply whose state was lost). The resource must be
declared in the project; if it was not applied yet it enters the state as declared.

The state records the object as the configuration wants it, so the next \`orgloop plan\`
reads the object back and shows every way it differs (its URL, events, and for a webhook
with a secret, the secret GitHub never shows) as a change that apply makes.

Importable objects: github-webhook sources with public_url (ID: the repository webhook's
numeric id, from the repository's Settings > Webhooks or GET /repos/OWNER/REPO/hooks).
Other connectors manage no external object; import names the ones that can.`,
    )
    .action(
      action(async (address: string, id: string, opts: { json?: boolean }, cmd: Command) => {
        const g = globals(cmd);
        const [{ loadProject }, { withWorkspaceStore }, { importObject }, { registryHints }, registry, { projectEnv }] = await Promise.all([
          import('../engine/config/load.js'),
          import('../engine/workspace.js'),
          import('../engine/state-edit/import.js'),
          import('../engine/plan/plan.js'),
          import('../providers/registry.js'),
          import('../engine/config/env.js'),
        ]);
        const project = await loadProject(g.config);
        const hints = await registryHints();
        return withWorkspaceStore(g, async (store) => {
          const r = await importObject(store, {
            address,
            id,
            project,
            providerFor: (kind, name) => (kind === 'route' ? undefined : registry.getProvider(kind, name)),
            allProviders: registry.allProviders(),
            sensitive: hints.sensitive,
            stateKey,
            env: projectEnv(project.dir),
            who: whoAmI(),
            warn: (m) => process.stderr.write(`Warning: ${m}\n`),
          });
          if (opts.json) {
            printJson({ address, id, serial: r.version.serial, provider_state: r.provider_state });
            return EXIT.OK;
          }
          process.stdout.write(
            `Imported ${address} ${id}: state version ${r.version.serial} (import)${r.was_applied ? '' : `; ${address} is now in the state as declared`}.\n` +
              'Run `orgloop plan` to see how the object differs from the configuration; `orgloop apply` brings it in line.\n',
          );
          return EXIT.OK;
        });
      }),
    );
}
