export { lameDuck, plankMiddleware, type LameDuckOptions } from './lame-duck.js';
