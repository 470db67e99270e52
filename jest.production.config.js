/**
 * `npm run test:production`: the production shape. Global setup boots the real Temporal server on
 * a private PostgreSQL (bench/lib/production-temporal.ts) for the end-to-end conversation
 * scenarios of test/e2e and test/webhooks, which run against it unchanged; test/production/ adds
 * the chaos run (two workers, two APIs, its own deployment it restarts) and the rolling upgrade.
 * One project of its own: jest.config.js's `projects` would replace this file's testMatch.
 */
const { maxWorkers, testTimeout, projects } = require('./jest.config.js');

module.exports = {
  maxWorkers,
  testTimeout,
  testEnvironment: 'node',
  transform: projects[0].transform,
  testMatch: [
    '<rootDir>/test/production/**/*.test.ts',
    '<rootDir>/test/e2e/slice.test.ts',
    '<rootDir>/test/e2e/delivery.test.ts',
    '<rootDir>/test/e2e/operator-api.test.ts',
    '<rootDir>/test/e2e/erasure.test.ts',
    '<rootDir>/test/webhooks/webhooks.e2e.test.ts',
  ],
  globalSetup: '<rootDir>/test/production/global-setup.ts',
  globalTeardown: '<rootDir>/test/production/global-teardown.ts',
};
