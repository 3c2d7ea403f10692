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
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  { files: ['test/**'], languageOptions: { globals: globals.mocha } },
  {
    // oob matches control characters on purpose: to refuse them in profile values and to escape
    // them before a line reaches a terminal
    rules: { 'no-control-regex': 'off' },
  },
  // the bundle's loader is CommonJS by necessity (it runs before any module system: vm.Script)
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // `cond ? add('PASS', …) : add('FAIL', …)` as a statement: one check, two verdicts, on one line
    files: ['src/status/doctor.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true }] },
  },
);
