// `orgloop inbox drain|status`: OrgLoop's inbox commands, read from the state store (an executor
// need not run). An agent woken by an inbox notification runs the drain command it names.

import type { Command } from 'commander';
import { forTerminal } from '../providers/lib/terminal.js';
import { UserError } from '../engine/errors.js';
import { action, globals } from './util.js';
import type { DrainOutput } from '../engine/inbox/drain.js';

/** Resolves once the text is handed to the OS: a drain deletes what it handed out only then. */
const writeOut = (text: string) => new Promise<void>((res, rej) => process.stdout.write(text, (err) => (err ? rej(err) : res())));

export function formatDrain(r: DrainOutput): string {
  const lines = [`Drained ${r.events.length} event(s)`];
  if (r.remaining > 0) lines.push(`  ${r.remaining} event(s) remaining`);
  for (const e of r.events) lines.push(`  ${[e.timestamp ?? e.time, e.type, e.source, e.id].map((v) => forTerminal(String(v ?? ''))).join('  ')}`);
  return lines.join('\n') + '\n';
}

export function register(program: Command): void {
  const inbox = program.command('inbox').description('drain and inspect inbox batches (routes with then.config.inbox)');

  inbox
    .command('drain')
    .description("hand out a session key's waiting events, oldest first, and remove them")
    .requiredOption('--key <session_key>', 'the session key to drain')
    .option('--limit <n>', "most events to hand out (default: the route's inbox_max_batch, else 100)")
    .option('--format <fmt>', 'json or text', 'json')
    .addHelpText(
      'after',
      `
JSON output (as OrgLoop's): {"events": [...], "remaining": N, "continuation": "<id>" | null}.
Events are removed once written out; a drain killed before that leaves them to be handed out
again after a minute. Entries left (or arriving) after a drain notify the agent again.`,
    )
    .action(
      action(async (flags: { key: string; limit?: string; format: string }, cmd: Command) => {
        if (flags.format !== 'json' && flags.format !== 'text') throw new UserError(`invalid --format "${flags.format}": expected json or text`);
        let limit: number | null = null;
        if (flags.limit !== undefined) {
          limit = Number(flags.limit);
          if (!Number.isInteger(limit) || limit <= 0) throw new UserError(`invalid --limit "${flags.limit}": expected a positive integer`);
        }
        const [{ withWorkspaceStore }, { drainInbox }] = await Promise.all([import('../engine/workspace.js'), import('../engine/inbox/drain.js')]);
        await withWorkspaceStore(globals(cmd), (store) => drainInbox(store, flags.key, limit, (out) => writeOut(flags.format === 'json' ? JSON.stringify(out, null, 2) + '\n' : formatDrain(out))));
      }),
    );

  inbox
    .command('status')
    .description('session keys with events waiting, or one key')
    .option('--key <session_key>', 'only this key')
    .option('--json', 'machine-readable output')
    .action(
      action(async (flags: { key?: string; json?: boolean }, cmd: Command) => {
        const [{ openWorkspaceStoreToRead }, { inboxStatus }] = await Promise.all([import('../engine/workspace.js'), import('../engine/inbox/drain.js')]);
        const { store } = await openWorkspaceStoreToRead(globals(cmd));
        try {
          const rows = await inboxStatus(store, flags.key);
          const shown = rows.map((s) => ({
            sessionKey: s.session_key,
            pending: s.pending,
            route: s.route,
            actor: s.actor,
            oldest_event_at: s.oldest_enqueued_at === null ? null : new Date(s.oldest_enqueued_at).toISOString(),
            notified: s.notified,
          }));
          if (flags.key !== undefined) {
            const one = shown[0];
            if (flags.json) return writeOut(JSON.stringify({ pending: one?.pending ?? 0, ...(one ? { route: one.route, actor: one.actor, oldest_event_at: one.oldest_event_at, notified: one.notified } : {}) }, null, 2) + '\n');
            return writeOut(`${forTerminal(flags.key)}: ${one?.pending ?? 0} event(s) pending\n`);
          }
          if (flags.json) return writeOut(JSON.stringify({ sessions: shown }, null, 2) + '\n');
          if (shown.length === 0) return writeOut('No pending inbox sessions.\n');
          return writeOut(['Inbox sessions:', ...shown.map((s) => `  ${forTerminal(s.sessionKey)}  (${s.pending} pending)  ${s.route} -> ${s.actor}${s.notified ? '  notified' : ''}`)].join('\n') + '\n');
        } finally {
          await store.close();
        }
      }),
    );
}
