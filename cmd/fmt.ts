import { Chalk } from 'chalk';
import type { Command } from 'commander';
import { EXIT } from '../engine/errors.js';
import { action, globals, printJson } from './util.js';

interface FmtOpts {
  check?: boolean;
  diff?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('fmt')
    .description('rewrite the project YAML in canonical layout, keeping comments')
    .argument('[paths...]', 'files or directories to format (default: the project file and the files it includes)')
    .option('--check', 'change nothing; list files that are not formatted and exit 1 if there are any')
    .option('--diff', 'print a unified diff of each change (also -diff); with --check nothing is written')
    .option('--json', 'machine-readable result: [{ file, changed, diff? (with --diff), error? }]')
    .addHelpText(
      'after',
      `
Canonical layout: 2-space indentation, list items indented under their key, flow maps
written { a: 1 } and flow lists [a, b], no line folding, at most one blank line between
entries. Keys are not reordered; quotes and block scalars are kept. Comments are kept (a
comment written after a key that opens a block moves to the line below it).

Without paths, fmt formats the project given by -c: a single orgloop.yaml, or a
kind: Project file plus the files it lists and every routes/*.yaml.

--diff prints what fmt changes (or, with --check, would change) as a unified diff on stdout,
with a/ and b/ paths relative to the current directory: \`git apply\` takes it.

Exit codes: 0 all files formatted (or already canonical); 1 with --check when any file
would change, or when a file has a YAML syntax error (printed as file:line:col; that file
is left untouched, the others are still formatted).`,
    )
    .action(
      action(async (paths: string[], opts: FmtOpts, cmd: Command) => {
        const { fmtFiles, projectYamlFiles, expandPaths } = await import('../engine/config/fmt.js');
        const differ = opts.diff ? (await import('../engine/plan/diff.js')).unifiedTextDiff : undefined;
        let files: string[];
        if (paths.length) files = expandPaths(paths);
        else {
          const found = projectYamlFiles(globals(cmd).config);
          for (const w of found.warnings) process.stderr.write(`warning: ${w}\n`);
          files = found.files;
        }
        const results = fmtFiles(files, { check: !!opts.check, diff: differ });
        const failed = results.filter((r) => r.error);
        const changed = results.filter((r) => r.changed);
        if (opts.json) printJson(results);
        else {
          const color = globals(cmd).color;
          // with --diff, stdout is only the patch (its headers name the files), so it can be applied
          if (opts.diff) for (const r of changed) process.stdout.write(colorDiff(r.diff ?? '', color) + '\n');
          else for (const r of changed) process.stdout.write(opts.check ? `would reformat ${r.file}\n` : `${r.file}\n`);
          for (const r of failed) process.stderr.write(`${r.error}\n`);
          if (opts.check && changed.length) {
            const n = changed.length;
            process.stderr.write(`${n} file${n === 1 ? '' : 's'} not formatted; run \`orgloop fmt\` to fix.\n`);
          }
        }
        if (failed.length) return EXIT.ERROR;
        if (opts.check && changed.length) return EXIT.ERROR;
        return EXIT.OK;
      }),
    );
}

function colorDiff(diff: string, color: boolean): string {
  if (!color) return diff;
  const c = new Chalk({ level: 1 });
  return diff
    .split('\n')
    .map((l) => (l.startsWith('+++') || l.startsWith('---') ? c.bold(l) : l.startsWith('+') ? c.green(l) : l.startsWith('-') ? c.red(l) : l.startsWith('@@') ? c.cyan(l) : l))
    .join('\n');
}
