export { buildEnv, percentDecode, type BuildEnvOptions, type RequestLike } from './env.js';
export { createHandler, type HandlerOptions } from './handler.js';
export { serve, type ServeOptions, type ServerHandle } from './serve.js';
export { boundUrl, describeListen, drain, listenOn, removeStaleSocket, urlOf } from './listen.js';
export { watchInactivity } from './inactivity.js';
export { plankServer } from './adapter.js';
