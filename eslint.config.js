import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import emergent from './eslint-rules/layers.js';

const root = import.meta.dirname;

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'docs/', 'test-results/', 'bench-results/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { emergent },
    rules: {
      'emergent/layers': ['error', { root }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['renderer/**/*.svelte', 'renderer/**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    files: ['renderer/src/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // SQL lives in the store's query modules only (its own tests build fixtures with SQL, and
    // the store bench measures bare better-sqlite3 as its reference).
    files: ['**/*.ts', '**/*.js', '**/*.svelte'],
    ignores: ['electron/core/store/**', 'test/store/**', 'bench/store-reference.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'better-sqlite3', message: 'SQL belongs in electron/core/store.' }] }],
    },
  },
  {
    // common runs everywhere: no DOM and no Node globals either.
    files: ['electron/common/**'],
    rules: {
      'no-restricted-globals': ['error', 'window', 'document', 'navigator', 'localStorage', 'process', 'Buffer', '__dirname', 'require'],
    },
  },
);
