export { plankMiddleware, xsendfile, type SendfileType, type XSendfileOptions } from './xsendfile.js';
