// Test helpers: a prefork master in a child process (the built bin), its log, and a
// keep-alive load generator.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';

export const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
export const fixtureApp = fileURLToPath(new URL('./fixtures/app.mjs', import.meta.url));
export const hooksApp = fileURLToPath(new URL('./fixtures/hooks-app.mjs', import.meta.url));

export type Proc = {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or the signal name) once it has exited. */
  exited: Promise<number | string>;
};

export function run(command: string, args: string[], env: Record<string, string> = {}): Proc {
  return adopt(spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Watches a child spawned with piped stdout and stderr. */
export function adopt(child: ChildProcess): Proc {
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    out += chunk.toString('utf8');
    for (const w of waiters) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    child,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = pattern.exec(out);
          if (!m) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(m);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${pattern} in:\n${out}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

export type Master = Proc & { url: string; port: number };

/** Starts `plank-prefork` on 127.0.0.1, an ephemeral port, and waits until it listens. */
export async function startMaster(args: string[], env: Record<string, string> = {}): Promise<Master> {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`node scripts/build.mjs\` first`);
  const proc = run(process.execPath, [bin, '--host=127.0.0.1', '--port=0', ...args], env);
  const m = await Promise.race([
    proc.waitFor(/Plank: listening on (http:\/\/127\.0\.0\.1:(\d+)\/)/),
    proc.exited.then((code) => {
      throw new Error(`plank-prefork exited (${code}):\n${proc.output()}`);
    }),
  ]);
  return { ...proc, url: m[1] as string, port: Number(m[2]) };
}

/** Stops a process the test started, if it is still there. */
export async function reap(proc: Proc | undefined): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGKILL');
  await proc.exited;
}

export type Reply = { status: number; body: string; connection: string | undefined };

export function get(url: string, agent?: Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
      res.on('error', reject);
    });
    req.setTimeout(20_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

export type LoadResult = { ok: number; failed: number; errors: string[]; bodies: Set<string> };

/**
 * Keeps `concurrency` keep-alive connections busy against `url` until `stop()` is called;
 * every error and every non-2xx response counts as a failure.
 */
export function load(url: string, concurrency = 4): { stop(): Promise<LoadResult>; result: LoadResult } {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const result: LoadResult = { ok: 0, failed: 0, errors: [], bodies: new Set() };
  let running = true;
  const loop = async (): Promise<void> => {
    while (running) {
      try {
        const r = await get(url, agent);
        if (r.status >= 200 && r.status < 300) {
          result.ok++;
          result.bodies.add(r.body);
        } else {
          result.failed++;
          result.errors.push(`status ${r.status}`);
        }
      } catch (err) {
        result.failed++;
        result.errors.push((err as NodeJS.ErrnoException).code ?? String(err));
      }
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    result,
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return result;
    },
  };
}

/** User + system CPU time of a process, in seconds (Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
