export { type ConnectMiddleware, fromConnect } from './from-connect.js';
export { fromNodeHandler, type NodeHandler } from './from-node-handler.js';
export { toNodeHandler } from './to-node-handler.js';
