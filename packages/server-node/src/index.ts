export { buildEnv, percentDecode, type BuildEnvOptions, type RequestLike } from './env.js';
