import type { MiddlewareFactory } from '../types.js';
import { conditionalGet } from './conditional-get.js';
import { contentLength } from './content-length.js';
import { head } from './head.js';
import { httpExceptions } from './http-exceptions.js';
import { lintMiddleware } from './lint.js';
import { runtime } from './runtime.js';
import { stackTrace } from './stack-trace.js';

/** Plank's own middleware, resolvable by name without a package lookup. */
export const builtinMiddleware: Record<string, MiddlewareFactory> = {
  ConditionalGET: conditionalGet,
  ContentLength: contentLength,
  Head: head,
  HTTPExceptions: httpExceptions,
  Lint: lintMiddleware,
  Runtime: runtime,
  StackTrace: stackTrace,
};
