export { plankMiddleware, simpleLogger, type SimpleLoggerOptions } from './simple-logger.js';
