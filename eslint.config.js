import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    // the store sits below the engine: it persists the engine's data, never imports its code
    files: ['state/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/engine/**', '**/providers/**', '**/cmd/**'], message: 'state/ must not import engine/, providers/ or cmd/' }] },
      ],
    },
  },
  {
    // providers code against providers/types.ts; what they need of the runtime comes in their context
    files: ['providers/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/engine/**', '**/state/**', '**/cmd/**'], message: 'providers/ must not import engine/, state/ or cmd/' }] },
      ],
    },
  },
  {
    // data flows cmd -> engine: the engine is handed settings, never reaches back into the CLI
    files: ['engine/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/cmd/**'], message: 'engine/ must not import cmd/' }] }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
