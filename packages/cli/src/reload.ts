import { spawn, type ChildProcess } from 'node:child_process';
import { watch, type FSWatcher } from 'node:fs';
import type { RunnerIO } from './io.js';

const ignored = /(^|[/\\])(node_modules|\.git|dist|logs|coverage)([/\\]|$)|\.log$|~$|\.swp$/;

/**
 * `-r`/`-R`: plankup runs itself as a child and starts a fresh one whenever a watched file
 * changes (a new process, so every module is loaded anew — what Plack's Restarter does).
 * Resolves with the child's exit code once a signal stopped both.
 */
export function superviseReload(argv: readonly string[], dirs: string[], io: RunnerIO): Promise<number> {
  const bin = io.bin ?? (process.argv[1] as string);
  const childArgs = argv.filter(
    (a, i) =>
      !['-r', '--reload'].includes(a) &&
      !(['-R', '--Reload'].includes(a) || ['-R', '--Reload'].includes(argv[i - 1] ?? '')) &&
      !/^(-R|--Reload=)./.test(a),
  );
  let child: ChildProcess | undefined;
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  const start = (): void => {
    child = spawn(process.execPath, [...process.execArgv, bin, ...childArgs], {
      cwd: io.cwd,
      env: { ...io.env, PLANK_RELOAD_CHILD: '1' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  };
  const restart = (file: string): void => {
    io.stderr.write(`plankup: ${file} changed, restarting\n`);
    const old = child;
    if (!old || old.exitCode !== null || old.signalCode !== null) return start();
    const kill = setTimeout(() => old.kill('SIGKILL'), 5000);
    old.once('exit', () => {
      clearTimeout(kill);
      if (!stopping) start();
    });
    old.kill('SIGTERM');
  };
  const watchers: FSWatcher[] = dirs.map((dir) =>
    watch(dir, { recursive: true }, (_event, name) => {
      if (!name || ignored.test(name)) return;
      clearTimeout(timer);
      timer = setTimeout(() => restart(name), 150);
    }),
  );
  io.stderr.write(`plankup: watching ${dirs.join(', ')} for changes\n`);
  start();
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      stopping = true;
      clearTimeout(timer);
      for (const w of watchers) w.close();
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return resolve(c?.exitCode ?? 0);
      c.once('exit', (code) => resolve(code ?? 0));
      c.kill(signal);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
