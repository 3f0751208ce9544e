import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

/**
 * The renderer's state classes are `.svelte.ts` runes: compiled by the Svelte plugin, against
 * Svelte's browser build (its reactivity; Node's condition would give the server build, where
 * state is plain fields), in jsdom. The core they talk to is the real one, in the same process.
 */
const rendererProject = { plugins: [svelte({ configFile: false })], resolve: { conditions: ['browser'] } };

/**
 * For tests that run llama.cpp or a browser (2 cores; llama.cpp spins): one file at a time,
 * each in a fresh process. llama.cpp keeps process-wide state (its log callback stays with the
 * first Llama a process made), so a file must not inherit another's.
 */
const ONE_FILE_AT_A_TIME = { forks: { maxForks: 1, minForks: 1, isolate: true } };

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
        ...rendererProject,
        test: {
          name: 'renderer',
          sequence: { groupOrder: 0 },
          include: ['test/renderer/**/*.test.ts'],
          exclude: ['test/renderer/**/*.model.test.ts'],
          environment: 'jsdom',
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
          poolOptions: ONE_FILE_AT_A_TIME,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The renderer's state with replies written by real llama.cpp: after the model tests, alone.
        ...rendererProject,
        test: {
          name: 'renderer-model',
          sequence: { groupOrder: 2 },
          include: ['test/renderer/**/*.model.test.ts'],
          environment: 'jsdom',
          pool: 'forks',
          poolOptions: ONE_FILE_AT_A_TIME,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          sequence: { groupOrder: 3 },
          include: ['test/cli/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
          poolOptions: ONE_FILE_AT_A_TIME,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
