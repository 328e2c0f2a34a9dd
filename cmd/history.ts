import type { Command } from 'commander';
import { action, globals, workspaceLine, printJson } from './util.js';
import { table as renderTable, type Paint } from './table.js';

export function register(program: Command): void {
  program
    .command('history')
    .description('list the applied versions of the state: serial, time, who, kind, message, changes, status')
    .option('--json', 'machine-readable: [{ serial, parent_serial, kind, created_at, who, message, config_digest, summary, rollback_of, git: { commit, dirty } | null, current, rolled_back_by }]')
    .addHelpText(
      'after',
      `
Kinds: apply, rollback (restores an earlier version), import (state push), state-edit
(state rm / mv), destroy (orgloop destroy, or an applied plan -destroy). Status marks the current version, what each rollback restores, and the
versions a rollback undid ("rolled back by vR"). COMMIT is the git commit of the project
directory at apply time ("-dirty": it had uncommitted changes; "-": not a git work tree). Compare two versions with
\`orgloop diff --from N --to M\`; return to one with \`orgloop rollback --to N\`.`,
    )
    .action(
      action(async (opts: { json?: boolean }, cmd: Command) => {
        const { openWorkspaceStoreToRead } = await import('../engine/workspace.js');
        const { historyRows, statusText, changeSummary } = await import('../engine/history/history.js');
        const g = globals(cmd);
        const { store } = await openWorkspaceStoreToRead(g);
        try {
          const meta = await store.meta();
          const rows = historyRows(await store.versions(), meta.serial);
          if (opts.json) {
            printJson(rows);
            return;
          }
          if (!rows.length) {
            process.stdout.write(`${workspaceLine(g)}No versions yet: nothing has been applied to ${store.location}.\n`);
            return;
          }
          const table = [
            ['SERIAL', 'TIME', 'WHO', 'KIND', 'COMMIT', 'CHANGES', 'MESSAGE', 'STATUS'],
            ...rows
              .slice()
              .reverse()
              .map((r) => [
                (r.current ? '*' : ' ') + String(r.serial),
                r.created_at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
                r.who,
                r.kind,
                r.git ? r.git.commit.slice(0, 12) + (r.git.dirty ? '-dirty' : '') : '-',
                changeSummary(r.summary),
                oneLine(r.message ?? ''),
                statusText(r),
              ]),
          ];
          process.stdout.write(workspaceLine(g) + renderTable(table, { color: g.color, paint }));
          process.stdout.write(`\nLineage ${meta.lineage}; * = current version (${meta.serial}).\n`);
        } finally {
          await store.close();
        }
      }),
    );
}

/**
 * The current version in green (its serial and status), versions a rollback undid in red,
 * rollbacks and destroys in yellow: the lines to look at when asking "what runs, and what was undone".
 */
const paint: Paint = (row, col) => {
  const status = row[7] ?? '';
  if (col === 0 || col === 7) {
    if (status.startsWith('current')) return 'green';
    if (status.includes('rolled back by')) return 'red';
  }
  if (col === 3 && (row[3] === 'rollback' || row[3] === 'destroy')) return 'yellow';
  return null;
};

function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > 60 ? flat.slice(0, 59) + '…' : flat;
}

