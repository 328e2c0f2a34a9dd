// `orgloop console`: the web console against a store when no executor serves it (the executor
// serves the same console at /console). Loopback only unless --host says otherwise; read-only
// unless a token is given.

import type { Command } from 'commander';
import { action, globals } from './util.js';
import { UserError } from '../engine/errors.js';

interface ConsoleFlags {
  port?: string;
  host?: string;
  token?: string;
}

export function register(program: Command): void {
  program
    .command('console')
    .summary('serve the web console (organization, events and traces, dead letters, versions) from the state store')
    .option('-p, --port <port>', 'port to listen on (0 = any free port)', '4801')
    .option('--host <host>', 'interface to listen on (loopback by default: the console shows events and payloads)', '127.0.0.1')
    .option('--token <token>', 'bearer token that enables actions (retry, cancel); default ORGLOOP_CONSOLE_TOKEN, else read-only')
    .addHelpText('after', '\nPrints "console at http://HOST:PORT/console". A running executor serves the same console at its own /console.')
    .action(
      action(async (flags: ConsoleFlags, cmd: Command) => {
        const g = globals(cmd);
        const port = Number(flags.port);
        if (!/^\d+$/.test(String(flags.port)) || port > 65535) throw new UserError(`invalid --port "${flags.port}": expected 0-65535`);
        const token = flags.token ?? process.env.ORGLOOP_CONSOLE_TOKEN ?? null;
        const host = flags.host ?? '127.0.0.1';
        const [{ createServer }, { openWorkspaceStore, statePath }, { openQueries }, { ConsoleRoutes }, { hostname }] = await Promise.all([
          import('node:http'),
          import('../engine/workspace.js'),
          import('../state/queries/queries.js'),
          import('../engine/console/server.js'),
          import('node:os'),
        ]);
        const store = await openWorkspaceStore(g);
        const queries = await openQueries(statePath(g));
        const { driftCheck } = await import('./plan-common.js');
        const routes = new ConsoleRoutes({ store, queries, token, drift: driftCheck(store), hosts: host === '0.0.0.0' || host === '::' ? [hostname()] : [host] });
        const server = createServer((req, res) => {
          const path = (req.url ?? '/').split('?')[0]!;
          if (path === '/') {
            res.writeHead(302, { location: '/console' }).end();
            return;
          }
          if (!routes.take(req, res, path)) {
            res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
          }
        });
        await new Promise<void>((resolve, reject) => {
          server.once('error', (err: NodeJS.ErrnoException) =>
            reject(new UserError(err.code === 'EADDRINUSE' ? `port ${port} on ${host} is already in use (use --port)` : `cannot listen on ${host}:${port}: ${err.message}`)),
          );
          server.listen(port, host, () => resolve());
        });
        const addr = server.address() as { address: string; port: number };
        if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') process.stderr.write(`warning: the console listens on ${host}, beyond loopback: anyone who reaches it can read events\n`);
        process.stdout.write(`console at http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}/console (${token ? 'actions need the token' : 'read-only'})\n`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', () => resolve());
          process.once('SIGTERM', () => resolve());
        });
        server.close();
        server.closeAllConnections();
        await queries.close();
        await store.close();
        return 0;
      }),
    );
}
