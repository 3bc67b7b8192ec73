// jest configuration of `npm test` (scripts/test.mjs chooses the files and checks the servers first).
// Spec files are TypeScript run through tsx in a fresh Node process each (scripts/jest/runner.mjs).
export default {
  rootDir: '.',
  roots: ['<rootDir>/packages', '<rootDir>/services', '<rootDir>/tests', '<rootDir>/bench'],
  testMatch: ['**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/\\.data/'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  runner: '<rootDir>/scripts/jest/runner.mjs',
  testSequencer: '<rootDir>/scripts/jest/sequencer.mjs',
  // Integration and end-to-end tests start real services and brokers: a test has minutes, not 5 s.
  testTimeout: 300_000,
  reporters: ['default', '<rootDir>/scripts/jest/summary-reporter.mjs'],
  watchPathIgnorePatterns: ['/\\.data/'],
};
