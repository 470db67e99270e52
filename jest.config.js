/** Jest runs TypeScript through SWC (no ts-jest: TypeScript 7 breaks it); type checking is `tsc --noEmit`. */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest'] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // The production shape runs on its own: `npm run test:production` (jest.production.config.js).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/production/'],
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  testTimeout: 60_000,
  // Two cores: each workflow test file runs its own Temporal server; files run two at a time and
  // the tests inside a file run serially.
  maxWorkers: 2,
};
