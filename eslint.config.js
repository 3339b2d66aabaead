// Flat ESLint config: typescript-eslint's recommended rules plus the conventions in CONTRIBUTING.md.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', 'packages/contracts/src/gen/**', '.hearth/**', '.turbo/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
      ],
    },
  },
  {
    files: ['eslint.config.js', 'vitest.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  // The layers of a service (DESIGN: rpc -> service -> store). Each layer imports only the ones
  // below it, and a service never imports another service: it calls it through its client.
  ...layer('services/*/src/rpc/**/*.ts', ['../store/*'], 'rpc/ maps requests to service calls; SQL lives behind src/service/ (rpc never imports store).'),
  ...layer('services/*/src/service/**/*.ts', ['../rpc/*'], 'src/service/ holds the rules and knows no transport (service never imports rpc).'),
  ...layer('services/*/src/store/**/*.ts', ['../rpc/*', '../service/*'], 'src/store/ only speaks SQL (store never imports rpc or service).'),
);

/** no-restricted-imports for one layer, plus the rule every service file follows. */
function layer(files, patterns, message) {
  return [
    {
      files: [files],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              { group: patterns, message },
              { group: ['@hearth/service-*', '../../../*/src/*', '../../*/src/*'], message: 'services never import each other: call the other service through runtime.serviceClient.' },
            ],
          },
        ],
      },
    },
  ];
}
