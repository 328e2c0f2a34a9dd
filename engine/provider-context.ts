// The one way a ProviderContext is made: by the executor's graph, apply's lifecycle hooks,
// refresh/drift reads and doctor's checks. Callers give what differs (config, where log lines go);
// the defaults (no config = {}, a log that drops everything) live here.

import type { Logger, ProviderContext } from '../providers/types.js';

export interface ContextParts {
  name: string;
  config?: Record<string, any> | null;
  projectDir: string;
  env: (name: string) => string | undefined;
  log?: Logger;
  signal?: AbortSignal;
}

const SILENT: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export function providerContext(p: ContextParts): ProviderContext {
  const ctx: ProviderContext = { name: p.name, config: p.config ?? {}, projectDir: p.projectDir, env: p.env, log: p.log ?? SILENT };
  if (p.signal) ctx.signal = p.signal;
  return ctx;
}

/** A log that hands warnings and errors to `warn` and drops the rest. */
export function warningsTo(warn: (message: string) => void): Logger {
  return { debug() {}, info() {}, warn, error: warn };
}
