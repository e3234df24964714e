import { lint } from '../lint.js';
import type { Middleware } from '../types.js';
import { CORE_OPTION, checkOptions } from '../options.js';

/** Lint takes no options; the type exists so every middleware has one. */
export type LintOptions = Record<never, never>;

/**
 * The factory behind `enable('Lint')`: returns {@link lint}, which checks every env and
 * response against SPEC.md.
 *
 * @example
 * ```ts
 * import { builder } from '@plank/core';
 * export default builder(({ enable }) => {
 *   enable('Lint');
 *   return (env) => [200, ['Content-Type', 'text/plain'], ['ok']];
 * });
 * ```
 */
export function lintMiddleware(options?: LintOptions): Middleware {
  checkOptions('Lint', CORE_OPTION, options, {});
  return lint;
}
