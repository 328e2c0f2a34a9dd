// `orgloop init` on a terminal: asks for the name, the sources and actors to add, and whether to
// install Claude Code's Stop hook. Answers are plain lines, so a script can pipe them too, but
// scripts should pass flags (`--name`, `--connectors`, `--no-interactive`) instead.

import { createInterface } from 'node:readline/promises';

export interface InitAnswers {
  name: string;
  connectors: string[];
  claudeHook: boolean;
}

const list = (text: string) =>
  text
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);

export async function askInit(defaults: { name: string; sources: string[]; actors: string[] }): Promise<InitAnswers> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    process.stdout.write('A new orgloop project: a webhook source and a command actor writing to .orgloop/inbox.jsonl, plus what you pick.\n');
    const name = (await rl.question(`Project name [${defaults.name}]: `)).trim() || defaults.name;
    process.stdout.write(`Sources: ${defaults.sources.join(', ')}\n`);
    const sources = list(await rl.question('Sources to add (comma-separated, Enter for none): '));
    process.stdout.write(`Actors: ${defaults.actors.join(', ')}\n`);
    const actors = list(await rl.question('Actors to add (comma-separated, Enter for none): '));
    const hook = (await rl.question('Install the Claude Code Stop hook in .claude/settings.json, so finished sessions arrive as events? [y/N]: ')).trim();
    const claudeHook = /^y(es)?$/i.test(hook);
    const connectors = [...new Set([...sources, ...actors, ...(claudeHook ? ['claude-code'] : [])])];
    return { name, connectors, claudeHook };
  } finally {
    rl.close();
  }
}
