export { buildEnv, percentDecode, type BuildEnvOptions, type RequestLike } from './env.js';
export { createHandler, type HandlerOptions } from './handler.js';
export { serve, type ServeOptions, type ServerHandle } from './serve.js';
export { createHttpServer, serverDefaults, type CreateHttpServerOptions, type HttpServerOptions } from './server.js';
export {
  httpServerChecks,
  listenChecks,
  listenSpecCheck,
  listenSpecsOf,
  msCheck,
  OPTION_ERROR,
  serverArgs,
} from './options.js';
export { CLIENT_ERROR_CHANNEL, onClientError, type ClientErrorReport } from './client-errors.js';
export { boundUrl, describeListen, drain, listenOn, removeStaleSocket, urlOf, type ServerAddress } from './listen.js';
export { watchInactivity } from './inactivity.js';
export { createServerHandle, headerBytes, responseUnderWay, type BoundHandle } from './node-private.js';
export { plankServer } from './adapter.js';
