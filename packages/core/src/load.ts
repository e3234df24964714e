import { createRequire } from 'node:module';
import { join } from 'node:path';

// Loading a package by name, as Plack::Util::load_class does for Perl classes: the one place
// core turns a name into a module. builder() stays synchronous because require(esm) is
// unflagged from Node 20.19, which is why that is Plank's minimum.

/** Where names are looked up when the caller gives no directory: the cwd, then the main script's folder. */
export function defaultBases(): string[] {
  const bases = [process.cwd()];
  const main = process.argv[1];
  if (main) bases.push(join(main, '..'));
  return bases;
}

/**
 * The exports of package `pkg` as the first of `bases` that can resolve it sees it, then as
 * core itself sees it; `undefined` when none can. Errors thrown while loading propagate.
 */
export function loadPackage(pkg: string, bases: readonly string[]): Record<string, unknown> | undefined {
  for (const base of [...bases, import.meta.dirname ?? process.cwd()]) {
    // createRequire wants a file; the file need not exist, only its directory matters.
    const req = createRequire(join(base, 'noop.js'));
    let path: string;
    try {
      path = req.resolve(pkg);
    } catch {
      continue;
    }
    return req(path) as Record<string, unknown>;
  }
  return undefined;
}
