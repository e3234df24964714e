export { prefork, plankServer, type PreforkServer } from './prefork.js';
export { fromCommandLine, type PreforkOptions, type WorkerTransport } from './options.js';
export { onWorkerStart, onWorkerExit, type WorkerHook, type WorkerHookInfo } from './hooks.js';
export type { WorkerInfo } from './protocol.js';
