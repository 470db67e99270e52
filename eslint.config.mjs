import eslint from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import simpleImportSort from 'eslint-plugin-simple-import-sort';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      '.tools/',
      '.data/',
      'coverage/',
      'scripts/',
      'bin/',
      '*.js',
      '*.mjs',
      'test/fixtures/',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'simple-import-sort': simpleImportSort },
    rules: {
      // One import order everywhere (packages, then the project's own modules; `npx eslint . --fix` sorts them).
      'simple-import-sort/imports': 'error',
      'simple-import-sort/exports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code is replayed deterministically inside Temporal's sandbox: no I/O, no env, no Node built-ins.
    // Routing's decision modules run there too; only its file loader (load.ts) is Node-side.
    files: ['src/workflows/**/*.ts', 'src/routing/**/*.ts'],
    ignores: ['src/routing/load.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins,
            'node-fetch',
            'undici',
            'axios',
            'google-auth-library',
            'prom-client',
            'hono',
            '@temporalio/client',
            '@temporalio/worker',
            '@temporalio/activity',
          ].map((name) => ({ name, message: 'Workflow code must stay free of I/O and Node built-ins.' })),
          patterns: [
            { group: ['node:*'], message: 'Workflow code must not import Node built-ins.' },
            {
              group: [
                '**/activities',
                '**/activities/*',
                '**/channels/*/client',
                '**/simulator/**',
                '**/api/**',
                '**/config',
              ],
              allowTypeImports: true,
              message: 'Workflows may import activities and I/O modules as types only.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'No process or process.env in workflow code.' },
        { name: 'fetch', message: 'No I/O in workflow code.' },
        { name: 'require', message: 'No dynamic requires in workflow code.' },
      ],
    },
  },
  {
    // The product's modules form a tree: a cycle means two modules that can be neither understood
    // nor moved apart. test/unit/lint-no-cycle.test.ts lints the fixtures to show a cycle refused.
    files: ['src/**/*.ts', 'test/fixtures/import-*/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts'],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Only src/config.ts reads process.env.',
        },
      ],
    },
  },
);
