import type { MiddlewareFactory } from '../builder.js';
import { lintMiddleware } from './lint.js';

/** Plank's own middleware, resolvable by name without a package lookup. */
export const builtinMiddleware: Record<string, MiddlewareFactory> = {
  Lint: lintMiddleware,
};
