import type { Command } from 'commander';
import { UserError } from '../engine/errors.js';
import { action, globals } from './util.js';

interface DiffOpts {
  from: string;
  to?: string;
  json?: boolean;
  format?: string;
}

function serialArg(value: string, flag: string): number {
  const n = Number(value.replace(/^v/i, ''));
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${flag} must be a version number from \`orgloop history\` (got "${value}")`);
  return n;
}

export function register(program: Command): void {
  program
    .command('diff')
    .description('show what changed between two applied versions, in plan form')
    .requiredOption('--from <serial>', 'the older version')
    .option('--to <serial>', 'the newer version (default: the current one)')
    .option('--json', 'machine-readable (the plan JSON document, docs/plan-json.md)')
    .option('--format <format>', 'text | json | markdown', 'text')
    .addHelpText(
      'after',
      `
The output reads like \`orgloop plan\`: what applying version --to on top of version --from
changes, with field diffs and prompt text diffs (prompts come from the state store).
--from may be newer than --to to see the reverse.`,
    )
    .action(
      action(async (opts: DiffOpts, cmd: Command) => {
        const format = opts.json ? 'json' : (opts.format ?? 'text').toLowerCase();
        if (!['text', 'json', 'markdown'].includes(format)) throw new UserError(`--format must be text, json or markdown (got "${opts.format}")`);
        const from = serialArg(opts.from, '--from');
        const to = opts.to === undefined ? undefined : serialArg(opts.to, '--to');
        const g = globals(cmd);
        const { openWorkspaceStoreToRead } = await import('../engine/workspace.js');
        const { diffVersions } = await import('../engine/history/diff.js');
        const { store } = await openWorkspaceStoreToRead(g);
        try {
          const { plan, from: a, to: b } = await diffVersions(store, from, to);
          if (format === 'json') {
            const { renderJson } = await import('../engine/plan/render-json.js');
            process.stdout.write(renderJson(plan));
          } else if (format === 'markdown') {
            const { renderMarkdown } = await import('../engine/plan/render-markdown.js');
            process.stdout.write(renderMarkdown(plan, { title: `orgloop diff: version ${a.serial} → ${b.serial}` }));
          } else {
            const { renderText } = await import('../engine/plan/render-text.js');
            process.stdout.write(`Changes from version ${a.serial} (${a.kind}, ${a.created_at}) to version ${b.serial} (${b.kind}, ${b.created_at}):\n\n`);
            const text = renderText(plan, { color: g.color });
            process.stdout.write(plan.changes.length ? text : `No differences: versions ${a.serial} and ${b.serial} declare the same configuration.\n`);
          }
        } finally {
          await store.close();
        }
      }),
    );
}
