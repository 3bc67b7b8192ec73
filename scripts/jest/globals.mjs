// `@jest/globals` for files run by run-file.mjs: jest-circus's describe/it/hooks and expect, as
// jest's own runtime hands them to a test file.
const globals = globalThis[Symbol.for('roster.jest.globals')];
if (!globals) throw new Error('@jest/globals is only available to spec files run by jest (npm test)');
export const { describe, it, test, beforeAll, afterAll, beforeEach, afterEach, fdescribe, fit, xdescribe, xit, xtest } = globals;
export const { expect } = globals;
