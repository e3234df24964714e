export { deflater, plankMiddleware, type DeflaterOptions } from './deflater.js';
export type { Coding } from './encoder.js';
