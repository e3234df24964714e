import { type Stats, accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Why `file` could not be written, or undefined when it can: checked when the middleware is
 * built, without writing anything (`plankup --check` must leave the disk as it found it).
 * The file's directory must be writable if it exists, else the nearest existing parent
 * (where it will be created at the first write); an existing file must be writable too.
 * A `%DATE%` in a directory name stands for a directory that does not exist yet.
 */
export function unwritable(file: string): string | undefined {
  const path = resolve(file);
  if (!path.includes('%DATE%')) {
    const st = stat(path);
    if (st?.isDirectory()) return `"${path}" is a directory`;
    if (st) return denied(path, 'file');
  }
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const st = dir.includes('%DATE%') ? undefined : stat(dir);
    if (st) return st.isDirectory() ? denied(dir, 'directory') : `"${dir}" is not a directory`;
    if (dirname(dir) === dir) return `no part of "${path}" exists`;
  }
}

// A missing path, or one that runs through a file (ENOTDIR), is one to walk up from.
function stat(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

function denied(path: string, what: string): string | undefined {
  try {
    accessSync(path, what === 'file' ? constants.W_OK : constants.W_OK | constants.X_OK);
    return undefined;
  } catch (err) {
    return `${what} "${path}" is not writable (${(err as NodeJS.ErrnoException).code})`;
  }
}
