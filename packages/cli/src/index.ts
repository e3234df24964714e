export type { RunnerIO } from './io.js';
export { Runner } from './runner.js';
export { parseArgs, type RunnerOptions } from './options.js';
export { listenSpecs } from './listen.js';
export { loadApp, type LoadArgs } from './load.js';
