import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['cmd/**/*.test.ts', 'engine/**/*.test.ts', 'providers/**/*.test.ts', 'state/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
  },
});
