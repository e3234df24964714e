import { PlankError, show } from './errors.js';
import { defaultBases, loadPackage } from './load.js';
import { builtinMiddleware } from './middleware/index.js';
import type { MiddlewareFactory } from './types.js';

/**
 * Maps a Plack-style name to its package the way Plack maps names to modules:
 * `AccessLog` → `@plank/middleware-access-log`, `ServerStatus::Lite` →
 * `@plank/middleware-server-status-lite`, `+some-pkg` → `some-pkg` as written.
 */
export function middlewarePackageName(name: string): string {
  if (name.startsWith('+')) return name.slice(1);
  const kebab = name
    .split('::')
    .map((part) =>
      part
        .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
        .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
        .toLowerCase(),
    )
    .join('-');
  return `@plank/middleware-${kebab}`;
}

/**
 * Finds the factory for a middleware name: Plank's own (`Runtime`, `ContentLength`, ...),
 * then the package the name maps to; `A::B` also looks in `A`'s package, which may export
 * several names. A package names its factories in `plankMiddleware` (`{ 'AccessLog': accessLog }`)
 * or exports one as `default`.
 */
export function resolveMiddleware(name: string, from?: string | string[]): MiddlewareFactory {
  const builtin = builtinMiddleware[name];
  if (builtin) return builtin;
  const candidates = [middlewarePackageName(name)];
  if (!name.startsWith('+') && name.includes('::'))
    candidates.push(middlewarePackageName(name.split('::')[0] as string));
  const bases = from === undefined ? defaultBases() : Array.isArray(from) ? from : [from];
  for (const pkg of candidates) {
    const mod = loadPackage(pkg, bases);
    if (mod === undefined) continue;
    const named = (mod.plankMiddleware as Record<string, unknown> | undefined)?.[name.replace(/^\+/, '')];
    const factory = named ?? mod.default;
    if (typeof factory === 'function') return factory as MiddlewareFactory;
    throw new PlankError(
      'PLANK_ERR_MIDDLEWARE_EXPORT',
      `enable(${show(name)}): package ${pkg} exports no middleware factory (plankMiddleware[${show(name)}] or default)`,
    );
  }
  throw new PlankError(
    'PLANK_ERR_UNKNOWN_MIDDLEWARE',
    `enable(${show(name)}): unknown middleware; looked for ${candidates.join(', ')} from ${bases.join(', ')} (is it installed?)`,
  );
}
