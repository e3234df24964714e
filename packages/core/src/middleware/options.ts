import { PlankError, show } from '../errors.js';

/** The one error code for a bad option given to a core middleware. */
export const OPTIONS_CODE = 'PLANK_ERR_MIDDLEWARE_OPTIONS';

/**
 * Checks that `options` is undefined or a plain object holding only `known` keys, so a
 * typo (`headername`) fails when the middleware is created instead of being ignored.
 */
export function checkOptions<T extends object>(
  where: string,
  options: T | undefined,
  known: readonly string[],
): Partial<T> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new PlankError(OPTIONS_CODE, `${where}: options must be an object, got ${show(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const hint = known.length > 0 ? `known options: ${known.join(', ')}` : 'it takes no options';
      throw new PlankError(
        OPTIONS_CODE,
        `${where}: unknown option "${key}" (${hint}), got ${show((options as Record<string, unknown>)[key])}`,
      );
    }
  }
  return options;
}
