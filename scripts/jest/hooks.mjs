// Resolves `@jest/globals` to the globals of the jest-circus run in this process (globals.mjs).
import { register } from 'node:module';

register(new URL('./resolve-globals.mjs', import.meta.url));
