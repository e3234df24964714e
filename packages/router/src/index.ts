export type { RouteParams } from './params.js';
export { type RouteHandler, type RouterDSL, type RouterOptions, router } from './router.js';
