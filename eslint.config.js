// Lint: eslint's and typescript-eslint's recommended rules (not type-aware: fast, no build).
// Formatting is prettier's job (.prettierrc.json), not eslint's. `npm run lint` runs both checks.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'build/', 'node_modules/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      // `_name` marks a parameter or binding kept on purpose (a callback's shape, a destructured rest)
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  { files: ['test/**'], languageOptions: { globals: globals.mocha } },
  // Findings in src/ left for after the merge of the parallel branches that rewrite these files
  // now (issue 16): reported as warnings, so `npm run lint` shows them without failing. Remove
  // each entry with its fix.
  {
    files: ['src/profile/edit.ts'],
    rules: { 'prefer-const': 'warn' }, // `let start` is never reassigned
  },
  {
    files: ['src/status/collect.ts'],
    rules: { '@typescript-eslint/no-unused-vars': ['warn', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }] }, // `path` imported, unused
  },
  {
    // `cond ? add('PASS', …) : add('FAIL', …)` as a statement: one check, two verdicts, on one line
    files: ['src/status/doctor.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true }] },
  },
);
