// A ProviderContext for calling providers directly in tests, collecting what they log.

import type { ProviderContext } from '../../providers/types.js';

export interface TestContext extends ProviderContext {
  logs: Array<{ level: string; msg: string; data?: Record<string, unknown> }>;
}

export function providerContext(
  name: string,
  config: Record<string, any>,
  env: Record<string, string | undefined> = {},
  projectDir = process.cwd(),
): TestContext {
  const logs: TestContext['logs'] = [];
  const at = (level: string) => (msg: string, data?: Record<string, unknown>) => void logs.push({ level, msg, data });
  return {
    name,
    config,
    projectDir,
    logs,
    log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
    env: (n) => env[n],
  };
}
