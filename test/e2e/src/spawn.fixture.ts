import type { ChildProcess } from 'node:child_process';

/**
 * Resolves with the first match of `pattern` (its group 1) in what `child` prints on stdout;
 * rejects with its stderr if it exits first.
 */
export function printed(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d) => {
      out += d;
      const m = pattern.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.stderr?.on('data', (d) => (err += d));
    child.on('exit', (status) => reject(new Error(`process exited ${status}: ${err}`)));
  });
}
