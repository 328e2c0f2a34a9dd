#!/usr/bin/env node
// orgloop CLI entry. Each command module exports `register(program)`; it parses flags,
// lazily imports the engine and renders. Keep top-level imports light: Node start-up counts.

import { Command } from 'commander';
import { reportError } from './util.js';
import { terraformArgs } from './plan-common.js';
import { register as version, VERSION } from './version.js';
import { register as fmt } from './fmt.js';
import { register as graph } from './graph.js';
import { register as history } from './history.js';
import { register as diff } from './diff.js';
import { register as rollback } from './rollback.js';
import { register as drift } from './drift.js';
import { register as stateCmd } from './state.js';
import { register as hook } from './hook.js';
import { register as doctor } from './doctor.js';
import { register as validate } from './validate.js';
import { register as init } from './init.js';
import { register as start } from './start.js';
import { register as daemon } from './daemon.js';
import { register as up } from './up.js';
import { register as status } from './status.js';
import { register as logs } from './logs.js';
import { register as routes } from './routes.js';
import { register as testEvent } from './test-event.js';
import { register as events } from './events.js';
import { register as deliveries } from './deliveries.js';
import { register as sources } from './sources.js';
import { register as plan } from './plan.js';
import { register as apply } from './apply.js';
import { register as destroy } from './destroy.js';
import { register as show } from './show.js';
import { register as forceUnlock } from './force-unlock.js';
import { register as importCmd } from './import.js';
import { register as providers } from './providers.js';
import { register as consoleCmd } from './console.js';
import { register as inbox } from './inbox.js';
import { register as workspace } from './workspace.js';

const program = new Command();
program
  .name('orgloop')
  .description('Organization as Code: plan, apply and run the event topology of your AI organization.')
  .version(VERSION, '-V, --version')
  .option('-c, --config <file>', 'project file (orgloop.yaml or a kind: Project file)', process.env.ORGLOOP_CONFIG ?? 'orgloop.yaml')
  .option('--state <path>', 'state store: a SQLite file path or a postgres:// URL (default .orgloop/state.db beside the project; also ORGLOOP_STATE)')
  .option('--workspace <name>', 'named workspace to act on (default: the one `orgloop workspace select` chose, else "default"; also ORGLOOP_WORKSPACE)')
  .option('--no-color', 'disable color output (also NO_COLOR)')
  .showHelpAfterError('(run with --help for usage)')
  .configureOutput({ outputError: (str, write) => write(str) });

// Help lists commands in this order: author, change, inspect state, run, observe, integrate.
for (const register of [init, validate, fmt, plan, apply, destroy, show, drift, rollback, history, diff, stateCmd, workspace, importCmd, forceUnlock, graph, up, start, daemon, status, logs, routes, sources, testEvent, events, deliveries, inbox, hook, doctor, providers, consoleCmd, version]) register(program);

program.parseAsync(terraformArgs(process.argv)).catch((err) => {
  process.exitCode = reportError(err);
});
