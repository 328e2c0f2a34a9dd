import type { Command } from 'commander';
import { EXIT, UserError } from '../engine/errors.js';
import { action, globals, printJson } from './util.js';
import { whoAmI } from './who.js';

type Engine = typeof import('../engine/state-edit/state-edit.js');

/** Opens the workspace store, runs fn with the state-edit engine, closes the store. */
async function withStore<T>(cmd: Command, fn: (store: import('../state/store.js').Store, engine: Engine) => Promise<T>): Promise<T> {
  const [{ withWorkspaceStore }, engine] = await Promise.all([import('../engine/workspace.js'), import('../engine/state-edit/state-edit.js')]);
  return withWorkspaceStore(globals(cmd), (store) => fn(store, engine));
}

export function register(program: Command): void {
  const state = program
    .command('state')
    .description('inspect and repair the applied state: list, show, pull, push, rm, mv')
    .addHelpText(
      'after',
      `
rm and mv change only the state, never the outside world: rm forgets a resource without
calling its provider's delete; mv renames an address keeping its runtime data (a source's
cursor and events, a route's or actor's deliveries) and the references to it. Each edit
takes the state lock and writes a new version of kind "state-edit" (see \`orgloop history\`;
\`orgloop rollback\` can undo it). push writes a version of kind "import".`,
    );

  state
    .command('list')
    .description('list the resources in the current version')
    .option('--json', 'machine-readable: [{ address, kind, provider, managed }]')
    .action(
      action(async (opts: { json?: boolean }, cmd: Command) =>
        withStore(cmd, async (store, engine) => {
          const rows = await engine.listResources(store);
          if (opts.json) printJson(rows);
          else for (const r of rows) process.stdout.write(`${r.address}${r.managed ? '  (manages an external object)' : ''}\n`);
        }),
      ),
    );

  state
    .command('show')
    .description('show one resource as stored: attributes (secrets as template + hash), dependencies, provider state, prompt')
    .argument('<address>', 'KIND.NAME, e.g. route.pr-review')
    .option('--json', 'machine-readable')
    .action(
      action(async (address: string, opts: { json?: boolean }, cmd: Command) =>
        withStore(cmd, async (store, engine) => {
          const shown = await engine.showResource(store, address);
          if (opts.json) {
            printJson(shown);
            return;
          }
          const r = shown.resource;
          const out = [`# ${address} (version ${shown.serial})`, `kind:       ${r.kind}`, `provider:   ${r.provider}`];
          out.push(`depends_on: ${r.depends_on.length ? r.depends_on.join(', ') : '(none)'}`);
          out.push('attributes:', ...JSON.stringify(r.attributes, null, 2).split('\n').map((l) => '  ' + l));
          if (r.provider_state) out.push('provider_state:', ...JSON.stringify(r.provider_state, null, 2).split('\n').map((l) => '  ' + l));
          if (r.prompt_sha256) {
            out.push(`prompt (sha256 ${r.prompt_sha256}):`);
            out.push(...(shown.prompt ?? '(text missing from the store)').replace(/\n$/, '').split('\n').map((l) => '  | ' + l));
          }
          process.stdout.write(out.join('\n') + '\n');
        }),
      ),
    );

  state
    .command('pull')
    .description('print the current version as JSON (snapshot and prompt texts; never secret values)')
    .action(
      action(async (_opts: unknown, cmd: Command) =>
        withStore(cmd, async (store, engine) => {
          printJson(await engine.pullDocument(store));
        }),
      ),
    );

  state
    .command('push')
    .description('import a pulled state file as the current version')
    .argument('<file>', 'a file written by `orgloop state pull` ("-" reads stdin)')
    .option('--force', 'push even if the file is from another lineage or not newer than this state')
    .action(
      action(async (file: string, opts: { force?: boolean }, cmd: Command) => {
        const { readFileSync } = await import('node:fs');
        let text: string;
        try {
          text = readFileSync(file === '-' ? 0 : file, 'utf8');
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          throw new UserError(code === 'ENOENT' ? `state file ${file} does not exist` : `cannot read ${file}: ${(err as Error).message}`);
        }
        return withStore(cmd, async (store, engine) => {
          const doc = engine.parseStateDocument(text, file);
          const r = await engine.pushDocument(store, doc, { force: !!opts.force, file, who: whoAmI() });
          const moved = r.version.serial !== r.file_serial ? ` (stored as serial ${r.version.serial}: local history already used ${r.file_serial})` : '';
          const lineage = r.replaced_lineage ? `; replaced lineage ${r.replaced_lineage} with ${doc.lineage}` : '';
          process.stdout.write(`Pushed ${file}: state is now at serial ${r.version.serial}${moved}${lineage}.\n`);
          return EXIT.OK;
        });
      }),
    );

  state
    .command('rm')
    .description("forget resources (their providers' delete hooks are NOT called)")
    .argument('<address...>', 'KIND.NAME of each resource to forget')
    .action(
      action(async (addresses: string[], _opts: unknown, cmd: Command) =>
        withStore(cmd, async (store, engine) => {
          const { version, dependents } = await engine.removeResources(store, addresses, whoAmI());
          for (const a of addresses) process.stdout.write(`Removed ${a}\n`);
          for (const d of dependents) process.stderr.write(`Warning: ${d}; the next plan will show it\n`);
          process.stdout.write(`State version ${version.serial} (state-edit). The next \`orgloop plan\` creates them again if the configuration still declares them.\n`);
        }),
      ),
    );

  state
    .command('mv')
    .description('rename an address, keeping its runtime data (cursor, events, deliveries)')
    .argument('<from>', 'current address, e.g. source.github')
    .argument('<to>', 'new address of the same kind, e.g. source.gh-main')
    .action(
      action(async (from: string, to: string, _opts: unknown, cmd: Command) =>
        withStore(cmd, async (store, engine) => {
          const version = await engine.moveResource(store, from, to, whoAmI());
          process.stdout.write(`Moved ${from} to ${to}. State version ${version.serial} (state-edit).\n`);
        }),
      ),
    );
}
