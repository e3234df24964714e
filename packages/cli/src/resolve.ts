import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * The file `spec` (a package name, or a path inside a package) resolves to, looked up as a
 * module in the first of `bases` would look it up, then in the next. Throws the first base's
 * error when no base has it, so the caller can say what it was looking for and keep why.
 *
 * core's builder finds middleware packages the same way; it keeps its own few lines rather
 * than export this from @plank/core, whose public API is the Plank contract, not module lookup.
 */
export function resolveFrom(spec: string, bases: readonly string[]): string {
  let first: unknown;
  for (const base of bases) {
    try {
      // createRequire wants a file; the file need not exist, only its directory matters.
      return createRequire(join(base, 'noop.js')).resolve(spec);
    } catch (err) {
      first ??= err;
    }
  }
  throw first ?? new Error(`cannot resolve ${spec}: no directory to look in`);
}
