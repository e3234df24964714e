export {
  accessLog,
  plankMiddleware,
  type AccessLogMiddleware,
  type AccessLogOptions,
} from './access-log.js';
export { compileFormat, type CompiledFormat } from './compile.js';
export { FORMATS, type BlockHandler, type CharHandler, type LogRecord } from './format.js';
export { escapeLogItem } from './escape.js';
export { strftime } from './strftime.js';
export type { Rotate } from './period.js';
