import type { App } from '@plank/core';
import { resolveOptions, type FileAppOptions } from './options.js';
import { methodNotAllowed } from './responses.js';
import { createFileServer } from './serve.js';

/**
 * Serves files below `root` (or one `file` for every path), for mounting with `urlMap`
 * or as a whole app: Plack::App::File. Only GET and HEAD are answered; other methods get
 * 405 with `Allow: GET, HEAD`.
 *
 * @example
 * ```ts
 * import { builder } from '@plank/core';
 * import { fileApp } from '@plank/middleware-static';
 * export default builder(({ mount }) => {
 *   mount('/assets', fileApp({ root: './public', maxAge: 86400, immutable: true }));
 *   mount('/robots.txt', fileApp({ file: './public/robots.txt' }));
 * });
 * ```
 */
export function fileApp(options: FileAppOptions = {}): App {
  const files = createFileServer(resolveOptions('fileApp', options));
  return function fileApp(env) {
    if (env.REQUEST_METHOD !== 'GET' && env.REQUEST_METHOD !== 'HEAD') return methodNotAllowed();
    return files.serve(env, env.PATH_INFO);
  };
}
