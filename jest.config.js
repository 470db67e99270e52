/**
 * Two Jest projects. `unit`: tests of pure modules and in-process HTTP apps, with no Temporal
 * server and no workflow bundle (`npm run test:unit`, seconds). `integration`: everything else,
 * against real Temporal servers started by the global setup. `npm test` runs both.
 * TypeScript runs through SWC; type checking is `tsc --noEmit`.
 */
const transform = { '^.+\\.(t|j)sx?$': ['@swc/jest'] };

/** Test files that need no Temporal server: keep this list to files that start none. */
const unitTests = [
  'test/unit/**/*.test.ts',
  'test/api/codec-server.test.ts',
  'test/channels/bm-client.test.ts',
  'test/channels/failures.test.ts',
  'test/channels/google-auth.test.ts',
  'test/channels/handoff.test.ts',
  'test/chaos/checks.test.ts',
  'test/deploy/compose.test.ts',
  'test/deploy/config-reference.test.ts',
  'test/fuzz/invariants.test.ts',
  'test/ops/observability.test.ts',
  'test/ops/openapi.test.ts',
  'test/simulator/cli.test.ts',
  'test/simulator/phones.test.ts',
  'test/simulator/webhooks.test.ts',
  'test/webhooks/inbound.test.ts',
  'test/workflows/outbound-plan.test.ts',
  'test/workflows/outbound-tracker.test.ts',
];

module.exports = {
  // Two cores: files run two at a time and the tests inside a file run serially.
  maxWorkers: 2,
  // A Jest-wide option: a project's own testTimeout is not applied.
  testTimeout: 60_000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      testMatch: unitTests.map((glob) => `<rootDir>/${glob}`),
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      // The production shape runs on its own: `npm run test:production` (jest.production.config.js).
      testPathIgnorePatterns: unitTests
        .filter((glob) => !glob.includes('*'))
        .map((file) => `<rootDir>/${file}`)
        .concat('<rootDir>/test/unit/', '<rootDir>/test/production/'),
      // Bundles the workflow code once and starts one dev server for every file of this project.
      globalSetup: '<rootDir>/test/helpers/global-setup.ts',
      globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
    },
  ],
};
