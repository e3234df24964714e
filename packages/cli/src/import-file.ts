import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { usesModuleSyntax } from './esm-hook.js';

/** How Node runs a file: as an ES module, or as CommonJS. */
export type ModuleFormat = 'module' | 'commonjs';

const typeScript = new Set(['.ts', '.mts', '.cts', '.tsx']);
let tsxRegistered = false;
// Node 20's ESM loader cannot run a CommonJS TypeScript file that requires an ES-only package
// through tsx ("Cannot read properties of undefined (reading 'exports')"), so there such files
// go through tsx's CommonJS loader. Newer Node runs them through tsx's ESM loader, and there
// tsx's CommonJS loader is the one that fails ("require is not defined in ES module scope"):
// measured on 20.20, 22 and 24.21.
const tsxCommonJs = Number(process.versions.node.split('.')[0]) < 22;
let esmHookRegistered = false;
let tsxRequire: ((id: string, from: string) => unknown) | undefined;

/**
 * The format Node gives `file`: `.mjs`/`.mts` are ES modules and `.cjs`/`.cts` CommonJS
 * whatever the package says; `.js`/`.ts` follow the `"type"` of the nearest package.json, and
 * without one (what `npm init -y` writes) they are CommonJS.
 */
export function moduleFormat(file: string): ModuleFormat {
  const ext = extname(file);
  if (ext === '.mjs' || ext === '.mts') return 'module';
  if (ext === '.cjs' || ext === '.cts') return 'commonjs';
  return packageType(dirname(file));
}

function packageType(dir: string): ModuleFormat {
  for (let at = dir; ; at = dirname(at)) {
    let text: string | undefined;
    try {
      text = readFileSync(join(at, 'package.json'), 'utf8');
    } catch {
      // no package.json here: look in the parent
    }
    if (text !== undefined) {
      try {
        return (JSON.parse(text) as { type?: unknown }).type === 'module' ? 'module' : 'commonjs';
      } catch {
        return 'commonjs';
      }
    }
    if (dirname(at) === at) return 'commonjs';
  }
}

/**
 * Loads `file` and returns what it exports as its default (a CommonJS file's `module.exports`,
 * or its `default` when it was compiled from `export default`: the `__esModule` convention).
 *
 * TypeScript goes through tsx, registered only when a file needs it. In a CommonJS package,
 * plankup's resolve hook (`esm-hook.ts`) runs the app's own `.js`/`.ts` files that use
 * import/export as ES modules, whatever the package says. A TypeScript file that really is
 * CommonJS (`.cts`, or `.ts` with `require` and no import/export) is required, on Node 20,
 * through tsx's CommonJS loader: there tsx's ESM loader cannot run one that requires an
 * ES-only package, and its CommonJS loader gives that file its own copy of such packages
 * (README).
 */
export async function importFile(file: string): Promise<unknown> {
  const ext = extname(file);
  const commonjsScope = moduleFormat(file) === 'commonjs' && (ext === '.js' || ext === '.ts' || ext === '.tsx');
  // tsx before plankup's hook, always: the hook registered last runs first and must see tsx's answer.
  if (commonjsScope || typeScript.has(ext)) await registerTsx();
  if (tsxCommonJs && (ext === '.cts' || (commonjsScope && ext !== '.js' && !usesModuleSyntax(file)))) {
    const { register: registerCjs } = await import('tsx/cjs/api');
    tsxRequire ??= registerCjs({ namespace: 'plankup' }).require;
    const exported = tsxRequire(file, import.meta.url) as { __esModule?: unknown; default?: unknown } | null;
    return exported !== null && typeof exported === 'object' && exported.__esModule ? exported.default : exported;
  }
  if (commonjsScope && !esmHookRegistered) {
    esmHookRegistered = true;
    register('./esm-hook.js', import.meta.url);
  }
  return ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
}

async function registerTsx(): Promise<void> {
  if (tsxRegistered) return;
  tsxRegistered = true;
  (await import('tsx/esm/api')).register();
}
