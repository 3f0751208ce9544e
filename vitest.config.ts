import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: process.env['CI'] === 'true' ? ['default', 'json'] : ['default'],
    outputFile: { json: '.vitest-report.json' },
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['test/unit/**/*.test.ts', 'test/server/**/*.test.ts', 'test/lint/**/*.test.ts', 'test/security/**/*.test.ts', 'test/store/**/*.test.ts'],
          environment: 'node',
          testTimeout: 20_000,
        },
      },
      {
        // Tests that run llama.cpp or a browser: one file at a time (2 cores; llama.cpp spins).
        test: {
          name: 'model',
          sequence: { groupOrder: 1 },
          include: ['test/models/**/*.test.ts', 'test/engine/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          sequence: { groupOrder: 2 },
          include: ['test/cli/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
