// The prefork master under hostile conditions: clients that keep coming while it stops, and
// an operator (or a deploy script gone wrong) that sends HUP after HUP.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { until } from '@plank/test';
import { afterEach, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../../packages/server-prefork/dist/bin.js', import.meta.url));
const app = fileURLToPath(new URL('../fixtures/prefork-app.mjs', import.meta.url));

type Master = { child: ChildProcess; port: number; output(): string; exited: Promise<number | string> };
let running: Master | undefined;
afterEach(async () => {
  if (running && running.child.exitCode === null && running.child.signalCode === null) {
    running.child.kill('SIGKILL');
    await running.exited;
  }
  running = undefined;
});

async function startMaster(args: string[], env: Record<string, string> = {}): Promise<Master> {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`pnpm build\` first`);
  const child = spawn(process.execPath, [bin, '--host=127.0.0.1', '--port=0', ...args, app], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | string>((r) => child.once('exit', (code, signal) => r(code ?? signal ?? -1)));
  const master: Master = { child, port: 0, output: () => out, exited };
  running = master;
  const m = await until(() => /Plank: listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out) ?? undefined, 'listening', {
    timeout: 15_000,
  });
  master.port = Number(m[1]);
  return master;
}

/** The pids whose parent is `pid` (the master's workers), from /proc. */
function childrenOf(pid: number): number[] {
  const kids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) kids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return kids;
}

type Tally = { ok: number; closeAnswers: number; refused: number; failures: string[] };

/**
 * Keep-alive clients (two sockets, each request 20 ms in the app) and a stream of new
 * connections, until stopped. A connection refused outright is fine (the client knows nothing
 * was sent); an error after the connection was made is a failure: that request was lost.
 */
function traffic(port: number): { stop(): Promise<Tally> } {
  const tally: Tally = { ok: 0, closeAnswers: 0, refused: 0, failures: [] };
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 2 });
  let on = true;
  const once = (agent: Agent | false): Promise<void> =>
    new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/?sleep=20', agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) tally.ok++;
          else tally.failures.push(`status ${res.statusCode}`);
          // (A client without an agent asks for `Connection: close` itself.)
          if (agent && res.headers.connection === 'close') tally.closeAnswers++;
          resolve();
        });
        res.on('error', (err) => {
          tally.failures.push(`response: ${err.message}`);
          resolve();
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED') {
          tally.refused++;
          setTimeout(resolve, 10);
        } else {
          tally.failures.push(`${req.reusedSocket ? 'kept-alive' : 'new'} connection: ${err.code ?? err.message}`);
          resolve();
        }
      });
      req.setTimeout(10_000, () => req.destroy(new Error('no answer in 10 s')));
      req.end();
    });
  const loop = async (agent: Agent | false, pause: number): Promise<void> => {
    while (on) {
      await once(agent);
      if (pause > 0) await new Promise((r) => setTimeout(r, pause));
    }
  };
  const loops = [loop(keepAlive, 0), loop(keepAlive, 0), loop(false, 5)];
  return {
    async stop() {
      on = false;
      await Promise.all(loops);
      keepAlive.destroy();
      return tally;
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('prefork: stopping while clients keep coming', () => {
  for (const [signal, args] of [
    ['SIGTERM', []],
    ['SIGINT', []],
    ['SIGUSR1', []],
    ['SIGUSR1', ['--spawn-interval=0.3']],
  ] as const) {
    it(`${signal}${args.length ? ` with ${args.join(' ')}` : ''}: every request is answered or its connection refused, none is reset`, async () => {
      const m = await startMaster(['--max-workers=2', ...args]);
      await until(() => (m.output().match(/ready \(slot/g)?.length ?? 0) >= 2 || undefined, 'two ready workers');
      const load = traffic(m.port);
      await sleep(300);
      m.child.kill(signal);
      expect(await m.exited).toBe(0);
      // Keep knocking after the master is gone: the port must now refuse, not hang.
      await sleep(200);
      const tally = await load.stop();
      expect(tally.failures).toEqual([]);
      expect(tally.ok).toBeGreaterThan(10);
      // The requests in flight when the stop began were told not to come back on that connection,
      expect(tally.closeAnswers).toBeGreaterThan(0);
      // and new connections were refused once no worker was left to take them.
      expect(tally.refused).toBeGreaterThan(0);
    }, 30_000);
  }
});

describe('prefork: a HUP storm', () => {
  it('20 HUPs in 2 s while workers take 300 ms to load: at most twice the pool is ever alive, no request fails, and the last generation ends up serving', async () => {
    const pool = 2;
    const m = await startMaster([`--max-workers=${pool}`], { FIXTURE_LOAD_MS: '300' });
    const master = m.child.pid as number;
    await until(() => childrenOf(master).length === pool || undefined, 'the first generation');
    const load = traffic(m.port);
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, childrenOf(master).length);
    }, 10);
    try {
      for (let i = 0; i < 20; i++) {
        m.child.kill('SIGHUP');
        await sleep(100);
      }
      // Settles on the 21st generation alone.
      await until(
        () => {
          const ready = m.output().match(/ready \(slot \d+, generation 21\)/g)?.length ?? 0;
          return (ready === pool && childrenOf(master).length === pool) || undefined;
        },
        'generation 21 alone',
        { timeout: 30_000 },
      );
    } finally {
      clearInterval(sampler);
    }
    const tally = await load.stop();
    expect(peak).toBeLessThanOrEqual(2 * pool);
    expect(tally.failures).toEqual([]);
    expect(tally.refused).toBe(0);
    expect(tally.ok).toBeGreaterThan(10);
    // Generations that were still starting were replaced, not waited for.
    expect(m.output()).toMatch(/replaced by a newer restart/);
  }, 60_000);
});
