import { PlankError, show } from './errors.js';
import { defaultBases, describeBases, installedPackages, loadPackage } from './load.js';
import { didYouMean } from './suggest.js';
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
    const near = didYouMean(name, Object.keys((mod.plankMiddleware as object | undefined) ?? {}));
    throw new PlankError(
      'PLANK_ERR_MIDDLEWARE_EXPORT',
      `enable(${show(name)}): package ${pkg} exports no middleware factory (plankMiddleware[${show(name)}] or default)` +
        (near === undefined ? '' : `; did you mean ${show(near)}?`),
    );
  }
  const near = name.startsWith('+') ? undefined : didYouMean(name, knownNames(bases));
  const where = `looked for ${candidates.join(', ')} from ${describeBases(bases)}`;
  throw new PlankError(
    'PLANK_ERR_UNKNOWN_MIDDLEWARE',
    near === undefined
      ? `enable(${show(name)}): unknown middleware; ${where} (is it installed?)`
      : `enable(${show(name)}): unknown middleware; did you mean ${show(near)}? (${where})`,
  );
}

// Every name enable() could load from here: the built-in ones, and those of each installed
// @plank/middleware-* package (its plankMiddleware keys, or the name of its package). Only
// computed for an error, so loading the packages costs nothing on the way to a good build.
function knownNames(bases: readonly string[]): string[] {
  const names = Object.keys(builtinMiddleware);
  for (const pkg of installedPackages('@plank', 'middleware-', bases)) {
    let exported: unknown;
    try {
      exported = loadPackage(pkg, bases)?.plankMiddleware;
    } catch {
      // a package that fails to load still suggests the name its package maps from
    }
    if (exported && typeof exported === 'object') names.push(...Object.keys(exported));
    else names.push(plackName(pkg));
  }
  return names;
}

// `@plank/middleware-access-log` → `AccessLog`: the inverse of middlewarePackageName, as far
// as a package name allows (a `::` cannot be told from a `-`).
function plackName(pkg: string): string {
  return pkg
    .slice('@plank/middleware-'.length)
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}
