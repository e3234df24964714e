export { serverStatusLite, plankMiddleware, pickFormat, type ServerStatusLiteOptions } from './server-status-lite.js';
export { statusCommand } from './cli.js';
export type { StatusData, WorkerLine } from './collect.js';
export { timelineSvg, type TimelineOptions } from './chart.js';
