export { plankPlugin, type PlankPluginOptions } from './plugin.js';
export { serve, type FastifyServeOptions, type FastifyServerHandle } from './serve.js';
export { plankServer } from './adapter.js';
