export { errorDocument, plankMiddleware, type ErrorDocumentOptions } from './error-document.js';
