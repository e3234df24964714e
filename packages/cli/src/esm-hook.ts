// A module resolve hook (node:module register) that plankup installs when the app lives in a
// CommonJS package (what `npm init -y` makes): a `.js` or `.ts` file of the app's own that is
// written with import/export is run as an ES module, as Node's own syntax detection (22.12+)
// and type stripping do with such files. Without it, tsx compiles such a `.ts` file to
// CommonJS, whose `require()` of an ES-only package such as @plank/core fails on Node 20
// ("Cannot require() ES Module ... in a cycle"), or loads a second copy of it.
import { readFileSync } from 'node:fs';
import type { ResolveHook } from 'node:module';
import { fileURLToPath } from 'node:url';

const candidates = /\.(?:js|ts|tsx)$/;
// An import or export statement at the start of a line; not `import(`, `import.meta` (which
// CommonJS cannot have either, but is rare at a line start) or TypeScript's `import x = require()`.
const moduleSyntax =
  /^[ \t]*(?:export[ \t{*]|export$|import[ \t]*[{*'"]|import[ \t]+(?![^\n;]*=[ \t]*require\()[\w$])/m;

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const result = await nextResolve(specifier, context);
  if (
    (result.format === 'commonjs' || result.format === undefined || result.format === null) &&
    result.url.startsWith('file:') &&
    candidates.test(result.url) &&
    !result.url.includes('/node_modules/') &&
    usesModuleSyntax(fileURLToPath(result.url))
  )
    return { ...result, format: 'module' };
  return result;
};

/** Whether `file` has an import or export statement (false when it cannot be read). */
export function usesModuleSyntax(file: string): boolean {
  try {
    return moduleSyntax.test(readFileSync(file, 'utf8'));
  } catch {
    return false;
  }
}
