// `<label>=<path to cmd/main.js>[=<ENV>:<value>,...]` or `<label>=relay:<mode>`: how bench/ab.ts
// and bench/pair.ts name the builds they compare.

import { resolve } from 'node:path';
import type { RelayMode } from '../executor.js';

export interface Build {
  label: string;
  cli: string;
  env: Record<string, string>;
  /** instead of an executor, a floor of bench/lib/relay.mjs */
  relay?: RelayMode;
}

export function parseBuild(arg: string): Build {
  const [label, cli, ...rest] = arg.split('=');
  const envs = rest.join('=');
  if (!label || !cli) throw new Error(`expected <label>=<path to cmd/main.js>[=ENV:value,...], got "${arg}"`);
  const env: Record<string, string> = {};
  for (const kv of envs.split(',').filter(Boolean)) {
    const i = kv.indexOf(':');
    if (i < 1) throw new Error(`expected ENV:value in "${kv}"`);
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  if (cli.startsWith('relay:')) {
    const mode = cli.slice('relay:'.length);
    if (mode !== 'memory' && mode !== 'durable' && mode !== 'records') throw new Error(`unknown relay floor "${mode}" (memory, durable, records)`);
    return { label, cli, env, relay: mode };
  }
  return { label, cli: resolve(cli), env };
}
