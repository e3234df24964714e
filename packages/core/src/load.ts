import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';

// Loading a package by name, as Plack::Util::load_class does for Perl classes: the one place
// core turns a name into a module. builder() stays synchronous because require(esm) is
// unflagged from Node 20.19, which is why that is Plank's minimum.

// Besides the caller's directories, a package is looked up as core itself sees it, so a
// middleware installed beside @plank/core is found whatever the working directory.
const CORE_DIR = import.meta.dirname ?? process.cwd();

/**
 * Where names are looked up when the caller gives no directory: the working directory, then
 * the main script's folder, unless that folder is inside `node_modules`: then the main script
 * is an installed tool (`node_modules/.bin/plankup`), whose folder says nothing about the app.
 */
export function defaultBases(): string[] {
  const bases = [process.cwd()];
  const main = process.argv[1];
  if (main) {
    const folder = dirname(main);
    if (!`${folder}${sep}`.includes(`${sep}node_modules${sep}`) && folder !== bases[0]) bases.push(folder);
  }
  return bases;
}

/**
 * The exports of package `pkg` as the first of `bases` that can resolve it sees it, then as
 * core itself sees it; `undefined` when none can. Errors thrown while loading propagate.
 */
export function loadPackage(pkg: string, bases: readonly string[]): Record<string, unknown> | undefined {
  for (const base of [...bases, CORE_DIR]) {
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

/**
 * The names of the packages in `scope` whose name starts with `prefix`, installed in any
 * `node_modules` that `loadPackage` would look in (each base and its parents, then core's):
 * the candidates for a "did you mean" when a name was not found.
 */
export function installedPackages(scope: string, prefix: string, bases: readonly string[]): string[] {
  const found = new Set<string>();
  for (const base of [...bases, CORE_DIR]) {
    for (let dir = base; ; dir = dirname(dir)) {
      for (const name of entries(join(dir, 'node_modules', scope))) {
        if (name.startsWith(prefix)) found.add(`${scope}/${name}`);
      }
      if (dirname(dir) === dir) break;
    }
  }
  return [...found];
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return []; // no such folder: nothing installed there
  }
}

/** How an error message names the places `loadPackage` looked in. */
export function describeBases(bases: readonly string[]): string {
  return `${bases.join(', ')} and where @plank/core is installed`;
}
