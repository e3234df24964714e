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

// Node 23.6+ strips types itself and names a `.ts` file's format `commonjs-typescript` in a
// package that says `"type": "commonjs"` (npm 11's `npm init -y` writes it): such a file with
// import/export becomes `module-typescript`, the form Node and tsx both run as an ES module.
const asModule: Record<string, string> = { commonjs: 'module', 'commonjs-typescript': 'module-typescript' };

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const result = await nextResolve(specifier, context);
  const format = result.format ?? 'commonjs';
  if (
    format in asModule &&
    result.url.startsWith('file:') &&
    candidates.test(result.url) &&
    !result.url.includes('/node_modules/') &&
    usesModuleSyntax(fileURLToPath(result.url))
  )
    // @types/node 20 does not list the TypeScript formats Node 23.6+ has.
    return { ...result, format: asModule[format] as 'module' };
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
