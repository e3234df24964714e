export { buildFcgiEnv, type FcgiEnvOptions } from './env.js';
export { type FcgiServeOptions, type FcgiServer, serveFcgi } from './serve.js';
export { decodeParams, encodeParams, encodeRecords, RecordReader, Type as RecordType } from './protocol.js';
export { plankServer, stdinIsSocket } from './adapter.js';
