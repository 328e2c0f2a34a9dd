import type { Command } from 'commander';
import { action, globals } from './util.js';
import { UserError } from '../engine/errors.js';

export interface StartFlags {
  port?: string;
  host?: string;
  quiet?: boolean;
  verbose?: boolean;
  concurrency?: string;
}

export function parsePort(v: string | undefined): number {
  const raw = v ?? process.env.ORGLOOP_PORT ?? '4800';
  const n = Number(raw);
  if (!/^\d+$/.test(String(raw).trim()) || n < 0 || n > 65535) throw new UserError(`invalid port "${raw}": expected 0-65535 (0 picks a free port)`);
  return n;
}

export function addRunFlags(cmd: Command): Command {
  return cmd
    .option('-p, --port <port>', 'ingress port (0 = any free port; default ORGLOOP_PORT or 4800)')
    .option('--host <host>', 'interface to listen on', process.env.ORGLOOP_HOST ?? '127.0.0.1')
    .option('--concurrency <n>', 'deliveries in flight at once (default ORGLOOP_CONCURRENCY or 64)')
    .option('-q, --quiet', 'print only warnings and errors')
    .option('-v, --verbose', 'also print debug entries (transform steps, attempts)')
    .addHelpText(
      'after',
      `
Prints "listening on http://HOST:PORT" once ready. Endpoints: POST /webhook/<source-id> (or a
source's config.path), POST /callback/<actor-id> (an agent reports it stopped: JSON with
delivery_id or event_id, outcome, exit_code, duration_ms, output_tail), GET /healthz.

Environment (tuning, mostly for tests and benchmarks):
  ORGLOOP_PORT, ORGLOOP_HOST        defaults for --port / --host
  ORGLOOP_CONCURRENCY               deliveries in flight (default 64)
  ORGLOOP_PREFETCH                  deliveries leased at ingest that may wait here for a free slot,
                                    beyond those in flight (default 4096). Peers cannot take them
                                    while this executor lives: lower it when several executors
                                    share a store and actors are slow; 0 queues all overflow in
                                    the store for whichever executor claims first
  ORGLOOP_BACKOFF_BASE_MS           retry backoff base (default 1000; full jitter, doubling)
  ORGLOOP_BACKOFF_CAP_MS            retry backoff cap (default 300000)
  ORGLOOP_HEAP_GROWTH_PERCENT       old-generation growth between full GCs (default 50; 0 = V8's
                                    own policy, which lets the heap grow up to 4x its live size)
  ORGLOOP_LEASE_MS                  delivery lease, renewed while the actor runs (default 30000)
  ORGLOOP_CLAIM_POLL_MS             how often idle workers look for due work (default 250)
  ORGLOOP_SWAP_POLL_MS              how often a new apply is looked for (default 500)
  ORGLOOP_SHUTDOWN_GRACE_MS         how long shutdown waits for in-flight deliveries (default 5000)
  ORGLOOP_LOG_LEVEL                 console level without a console logger (default info)`,
    );
}

/** Runs the executor in the foreground until SIGINT/SIGTERM. Used by `start` and `up`. */
export async function runExecutor(g: { config: string; state?: string; color: boolean }, flags: StartFlags): Promise<number> {
  const port = parsePort(flags.port);
  const concurrency = flags.concurrency === undefined ? undefined : Number(flags.concurrency);
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency > 0)) {
    throw new UserError(`invalid --concurrency "${flags.concurrency}": expected a positive integer`);
  }
  const { openWorkspaceStore } = await import('../engine/workspace.js');
  const { Executor } = await import('../engine/run/executor.js');
  const store = await openWorkspaceStore(g);
  const ex = new Executor({
    store,
    port,
    host: flags.host ?? '127.0.0.1',
    write: (t) => process.stdout.write(t),
    color: g.color,
    consoleLevel: flags.quiet ? 'warn' : flags.verbose ? 'debug' : (process.env.ORGLOOP_LOG_LEVEL ?? 'info'),
    concurrency,
  });
  try {
    await ex.start();
  } catch (err) {
    await ex.stop().catch(() => {});
    await store.close().catch(() => {});
    throw err;
  }
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
          'Stops cleanly on Ctrl-C / SIGTERM. ORGLOOP_BACKOFF_BASE_MS shortens retry backoff (default 1000).',
      ),
  ).action(
    action(async (flags: StartFlags, cmd: Command) => {
      const g = globals(cmd);
      if (process.stdin.isTTY && (await neverApplied(g))) {
        // The seed's getting-started is `orgloop init` then `orgloop start`: on a terminal, the
        // first start offers the first apply (plan shown, 'yes' required) instead of failing.
        process.stdout.write('Nothing has been applied to this state yet: planning the configuration first.\n');
        const { up } = await import('./up.js');
        return up(g, g.color, flags);
      }
      return runExecutor(g, flags);
    }),
  );
}

async function neverApplied(g: { config: string; state?: string }): Promise<boolean> {
  const { withWorkspaceStore } = await import('../engine/workspace.js');
  return withWorkspaceStore(g, async (store) => (await store.meta()).serial === 0);
}
