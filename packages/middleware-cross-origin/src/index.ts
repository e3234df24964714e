export { crossOrigin, plankMiddleware, type CrossOriginOptions } from './cross-origin.js';
export type { OriginFunction, OriginPattern } from './origins.js';
