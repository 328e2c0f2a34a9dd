import type { Command } from 'commander';
import { action, globals } from './util.js';
import type { ExecutorSettings } from '../engine/run/settings.js';
import { readSettings, settingsHelp } from './settings.js';

export interface StartFlags {
  port?: string;
  host?: string;
  quiet?: boolean;
  verbose?: boolean;
  logLevel?: string;
  concurrency?: string;
  prefetch?: string;
}

export function addRunFlags(cmd: Command): Command {
  return cmd
    .option('-p, --port <port>', 'ingress port (0 = any free port)')
    .option('--host <host>', 'interface to listen on')
    .option('--concurrency <n>', 'deliveries in flight at once')
    .option('--prefetch <n>', 'deliveries leased at ingest that may wait here for a free slot')
    .option('--log-level <level>', 'console level without a console logger: debug, info, warn, error')
    .option('-q, --quiet', 'print only warnings and errors (--log-level warn)')
    .option('-v, --verbose', 'also print debug entries: transform steps, attempts (--log-level debug)')
    .addHelpText(
      'after',
      `
Prints "listening on http://HOST:PORT" once ready. Endpoints: POST /webhook/<source-id> (or a
source's config.path), POST /callback/<actor-id> (an agent reports it stopped: JSON with
delivery_id or event_id, outcome, exit_code, duration_ms, output_tail), GET /healthz.

${settingsHelp()}`,
    );
}

/** The executor's settings from the flags, the environment and the project file's defaults. */
export async function startSettings(g: { config: string }, flags: StartFlags): Promise<ExecutorSettings> {
  const { readProjectDefaults } = await import('../engine/config/defaults.js');
  return readSettings({
    flags: {
      port: flags.port,
      host: flags.host,
      concurrency: flags.concurrency,
      prefetch: flags.prefetch,
      consoleLevel: flags.quiet ? 'warn' : flags.verbose ? 'debug' : flags.logLevel,
    },
    env: process.env,
    defaults: readProjectDefaults(g.config, process.env),
  });
}

/** Runs the executor in the foreground until SIGINT/SIGTERM. Used by `start` and `up`. */
export async function runExecutor(g: { config: string; state?: string; color: boolean }, settings: ExecutorSettings): Promise<number> {
  const { openWorkspaceStore, statePath } = await import('../engine/workspace.js');
  const { Executor } = await import('../engine/run/executor.js');
  const { setupTraceExport } = await import('./otel.js');
  const { VERSION } = await import('./version.js');
  const traces = await setupTraceExport(process.env, VERSION);
  const store = await openWorkspaceStore(g);
  const ex = new Executor({ store, settings, write: (t) => process.stdout.write(t), color: g.color, stateLocation: statePath(g), tracing: traces.tracing });
  try {
    await ex.start();
  } catch (err) {
    await ex.stop().catch(() => {});
    await store.close().catch(() => {});
    await traces.shutdown();
    throw err;
  }
  if (traces.describe) process.stdout.write(`${traces.describe}\n`);
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (sig: string) => {
      signals++;
      if (signals > 1) {
        process.stderr.write(`received ${sig} again: exiting now (leases expire and deliveries are retried)\n`);
        process.exit(130);
      }
      resolve();
    };
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGTERM', () => onSignal('SIGTERM'));
  });
  await ex.stop();
  await store.close();
  await traces.shutdown();
  // Keep-alive sockets of actors may hold the loop open a little longer; do not hang on them.
  setTimeout(() => process.exit(process.exitCode ?? 0), 1500).unref();
  return 0;
}

export function register(program: Command): void {
  addRunFlags(
    program
      .command('start')
      .summary('run the applied org in the foreground: webhooks, polls, routing, delivery')
      .description(
        'run the applied version of the org in the foreground: receive webhooks, poll sources, route and deliver events.\n' +
          'Runs what was applied (the state store), not the YAML on disk; a new `orgloop apply` is picked up within 2 s.\n' +
          'Stops cleanly on Ctrl-C / SIGTERM. Settings are listed below.',
      ),
  ).action(
    action(async (flags: StartFlags, cmd: Command) => {
      const g = globals(cmd);
      const settings = await startSettings(g, flags);
      if (process.stdin.isTTY && (await neverApplied(g))) {
        // The seed's getting-started is `orgloop init` then `orgloop start`: on a terminal, the
        // first start offers the first apply (plan shown, 'yes' required) instead of failing.
        process.stdout.write('Nothing has been applied to this state yet: planning the configuration first.\n');
        const { up } = await import('./up.js');
        return up(g, flags);
      }
      return runExecutor(g, settings);
    }),
  );
}

async function neverApplied(g: { config: string; state?: string }): Promise<boolean> {
  const { withWorkspaceStore } = await import('../engine/workspace.js');
  return withWorkspaceStore(g, async (store) => (await store.meta()).serial === 0);
}
