export { serveStatic } from './static.js';
export { fileApp } from './file-app.js';
export { directoryApp, type DirectoryAppOptions } from './directory.js';
export type { CacheOptions, FileAppOptions, StaticOptions, Precompressed } from './options.js';
export type { DotfilesPolicy } from './safe-path.js';
import { serveStatic } from './static.js';

/** Lets `enable('Static', options)` find {@link serveStatic} by its Plack name. */
export const plankMiddleware: { Static: typeof serveStatic } = { Static: serveStatic };
