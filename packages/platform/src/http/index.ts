export * from './app.js';
export * from './problem.js';
