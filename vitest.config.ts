import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['cmd/**/*.test.ts', 'engine/**/*.test.ts', 'providers/**/*.test.ts', 'state/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    // The per-user state key file (engine/secrets/key.ts) lives here during tests, not in the
    // real ~/.config; CLI children inherit it, so they hash with the same key as the test.
    env: { XDG_CONFIG_HOME: join(tmpdir(), 'orgloop-test-config') },
  },
});
