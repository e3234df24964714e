import { dirname, resolve } from 'node:path';

// plankup promises one line per failure (README, Errors); these turn an error into that line.

/** One line saying what went wrong, with the file position when the error has one. */
export function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[0] ?? 'unknown error';
}

/**
 * The one line for an error thrown while loading `file` (the app or a `-M` module): a syntax
 * error names the file, line and column where it is, in `file` or in a module it imports,
 * whichever compiler found it (esbuild for TypeScript and CommonJS through tsx, V8 for ES
 * modules); anything else is its first line.
 */
export async function loadFailure(err: unknown, file: string): Promise<string> {
  const message = err instanceof Error ? err.message : String(err);
  // esbuild (through tsx) puts the position on a line of its own, "file.ts:3:8: ERROR: ...",
  // with a 0-based column; V8 and editors count columns from 1.
  const esbuild = /^(.+?):(\d+):(\d+): ERROR: (.*)$/m.exec(message);
  if (esbuild) {
    const [, path, line, column, what] = esbuild as unknown as [string, string, string, string, string];
    // tsx's CommonJS loader names a `.cts` file as if it were `.ts`.
    const named = file.endsWith('.cts') && path === file.replace(/\.cts$/, '.ts') ? file : path;
    const where = `${named}:${line}:${Number(column) + 1}`;
    if (/top-level await .* "cjs" output format/i.test(what))
      return `${where}: top-level await needs an ES module, and this file is CommonJS: add "type": "module" to its package.json, or rename it to .mts/.mjs`;
    return `${where}: syntax error: ${what}`;
  }
  if (!(err instanceof SyntaxError)) return firstLine(err);
  // V8's CommonJS compiler puts "file:line", the source line and a caret above the message.
  const v8 = /^(?:file:\/\/)?(\/[^\n]*?):(\d+)\n([^\n]*)\n( *)\^/.exec(err.stack ?? '');
  if (v8) return `${v8[1]}:${v8[2]}:${(v8[4] as string).length + 1}: syntax error: ${err.message}`;
  // An ES module's SyntaxError carries no position at all: ask esbuild where it is.
  const where = await locateSyntaxError(file);
  return where
    ? `${where}: syntax error: ${err.message}`
    : `syntax error: ${err.message} (in ${file} or a module it imports)`;
}

/** `file:line:column` of the first syntax error in `file` and the local modules it imports. */
async function locateSyntaxError(file: string): Promise<string | undefined> {
  const { buildSync } = await import('esbuild');
  const dir = dirname(file);
  try {
    buildSync({
      entryPoints: [file],
      absWorkingDir: dir,
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
  } catch (err) {
    const at = (err as { errors?: Array<{ location?: { file: string; line: number; column: number } | null }> })
      .errors?.[0]?.location;
    if (at) return `${resolve(dir, at.file)}:${at.line}:${at.column + 1}`;
  }
  return undefined;
}
