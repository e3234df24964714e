export { plankMiddleware, REQUEST_ID, requestId, type RequestIdOptions } from './request-id.js';
