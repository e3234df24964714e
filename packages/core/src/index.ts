export type {
  App,
  AppResult,
  Body,
  Chunk,
  Env,
  ErrorStream,
  FileBody,
  FinishHandler,
  FinishInfo,
  Headers,
  Logger,
  LogLevel,
  Middleware,
  MiddlewareFactory,
  Responder,
  Response,
  StreamingResponse,
  Writer,
} from './types.js';
export { PlankError, optionError, show } from './errors.js';
export {
  check,
  checkOptions,
  type Check,
  type CheckedOptions,
  type CheckedValue,
  type Checks,
  type OptionSchema,
  type Range,
} from './options.js';
export { didYouMean } from './suggest.js';
export * as header from './headers.js';
export { bodyChunks, bodyToBuffer, chunkLength, isFileBody, isReadable, isWebStream } from './body.js';
export { discardBody, statusWithoutBody } from './discard.js';
export {
  responseCb,
  type BodyFilter,
  type ResponseCallback,
  type ResponseCbOptions,
  type ResponseHead,
} from './response-cb.js';
export { urlMap } from './url-map.js';
export { escapeHtml } from './html.js';
export {
  builder,
  enable,
  enableIf,
  mount,
  type BuilderDSL,
  type BuilderOptions,
  type MiddlewareSpec,
} from './builder.js';
export { describeApp, formatStack, type AppDescription } from './describe.js';
export { middlewarePackageName, resolveMiddleware } from './resolve-middleware.js';
export { onFinish, watchFinish } from './finish.js';
export type {
  AppSource,
  ClientErrorReport,
  ListenSpec,
  RunningServer,
  ServerAdapter,
  ServerContext,
} from './server.js';
export { CLIENT_ERROR_CHANNEL } from './server.js';
export { lint } from './lint.js';
export { builtinMiddleware } from './middleware/index.js';
export { conditionalGet, type ConditionalGetOptions } from './middleware/conditional-get.js';
export { contentLength, type ContentLengthOptions } from './middleware/content-length.js';
export { head, type HeadOptions } from './middleware/head.js';
export { HttpException, httpExceptions, type HttpExceptionsOptions } from './middleware/http-exceptions.js';
export { lintMiddleware, type LintOptions } from './middleware/lint.js';
export { runtime, type RuntimeOptions } from './middleware/runtime.js';
export { stackTrace, type StackTraceOptions } from './middleware/stack-trace.js';
export { Request, type RequestOptions } from './request.js';
export { json, redirect } from './respond.js';
export { isAlive } from './process.js';
export { ResponseBuilder, serializeCookie, type CookieOptions } from './response-builder.js';
export { enterLameDuck, lameDuckSeconds, lameDuckSince, wantLameDuck } from './lame-duck.js';
export { monotonicUsec, sdNotify } from './sd-notify.js';
