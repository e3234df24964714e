import { resolve } from 'node:path';
import { PlankError } from '@plank/core';
import type { ListenSpec } from '@plank/core';
import { fromCommandLine, OPTION_CODE } from './options.js';
import { prefork } from './prefork.js';

const usage = `usage: plank-prefork [--host=H] [--port=N | --socket=PATH] [--export=NAME] [--max-workers=N ...] MODULE
Runs the app MODULE exports (default export, or the loader named by --export) in a prefork
server. Prefork options are plankup's: --max-workers, --max-reqs-per-child, --spawn-interval, ...
`;

/**
 * The `plank-prefork` command for those who do not use plankup (and for start_server):
 * resolves with the exit code once the master has stopped.
 */
export async function main(argv: readonly string[], cwd: string = process.cwd()): Promise<number> {
  const rest: Record<string, string | boolean> = {};
  let host: string | undefined;
  let port: number | undefined;
  let socket: string | undefined;
  let exp: string | undefined;
  let module: string | undefined;
  try {
    for (const arg of argv) {
      const m = /^--(enable-|disable-)?([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(arg);
      if (!m) {
        if (arg.startsWith('-') || module !== undefined)
          throw new PlankError(OPTION_CODE, `plank-prefork: cannot read ${JSON.stringify(arg)}\n${usage}`);
        module = arg;
        continue;
      }
      const [, toggle, name = '', value] = m;
      if (name === 'help') return (process.stdout.write(usage), 0);
      if (toggle) rest[name] = toggle === 'enable-';
      else if (name === 'host') host = value;
      else if (name === 'port') port = Number(value);
      else if (name === 'socket') socket = value;
      else if (name === 'export') exp = value;
      else rest[name] = value ?? true;
    }
    if (module === undefined) throw new PlankError(OPTION_CODE, `plank-prefork: no app module given\n${usage}`);
    const listen: ListenSpec[] =
      socket !== undefined ? [{ socket: resolve(cwd, socket) }] : [{ host, port: port ?? 5000 }];
    const server = await prefork({
      ...fromCommandLine(rest),
      app: { module: resolve(cwd, module), ...(exp !== undefined ? { export: exp } : {}) },
      listen,
    });
    return await server.closed;
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
