// A local user who can reach the scoreboard directory plants entries in it: a status_<pid>
// symlink to a file the server would overwrite, FIFOs that hang every reader (and, through
// libuv's four threads, every file operation of the process), a link to /dev/zero and a huge
// sparse file that a reader would read whole. The trust model refuses directories others may
// write; these cases plant the entries anyway (as the directory's owner) to prove the writer
// and the readers do not trust them either. Servers run as child processes with a 4 GiB
// address-space limit, so a reader that reads /dev/zero dies instead of eating the machine.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from '@plank/test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const server = fileURLToPath(new URL('./fixtures/scoreboard-server.mjs', import.meta.url));
const checkApp = fileURLToPath(new URL('./fixtures/scoreboard-check-app.mjs', import.meta.url));
const plankup = fileURLToPath(new URL('../../../packages/cli/dist/bin.js', import.meta.url));

let state: string;
const children: ChildProcess[] = [];
beforeEach(async () => {
  state = await mkdtemp(join(tmpdir(), 'plank-hostile-sb-'));
  mkdirSync(join(state, 'static'));
  writeFileSync(join(state, 'static', 'page.txt'), 'static page\n');
});
afterEach(async () => {
  // SIGKILL: a process whose thread pool is stuck on a FIFO cannot even exit on its own.
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await rm(state, { recursive: true, force: true });
});

type Running = { pid: number; url: string; child: ChildProcess };

/** Starts the fixture server; `plant` runs after its pid is known and before it builds the app. */
async function start(plant: (pid: number) => void): Promise<Running> {
  const child = spawn('sh', ['-c', 'ulimit -v 4194304 && exec "$0" "$@"', process.execPath, server, state], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await until(() => /^pid \d+$/m.test(out), 'the server to print its pid');
  const pid = Number(/^pid (\d+)$/m.exec(out)?.[1]);
  plant(pid);
  child.stdin?.write('go\n');
  await until(() => /^listening /m.test(out), 'the server to listen');
  return { pid, url: /^listening (\S+)$/m.exec(out)?.[1] as string, child };
}

/** A GET that gives up after 5 s instead of waiting for a server that hangs. */
async function get(base: string, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(new URL(path, base), { signal: AbortSignal.timeout(5000) });
  return { status: res.status, text: await res.text() };
}

/** The peak resident memory of a process, in KiB. */
const peakRss = (pid: number): number =>
  Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

describe('a hostile scoreboard directory', () => {
  it("replaces a status_<pid> symlink planted before the server's first write, and its target is unchanged", async () => {
    const victim = join(state, 'victim');
    writeFileSync(victim, 'root-owned secrets\n');
    const s = await start((pid) => {
      mkdirSync(join(state, 'sb'), { mode: 0o700 });
      symlinkSync(victim, join(state, 'sb', `status_${pid}`));
    });
    const page = await get(s.url, '/server-status');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(new RegExp(`^${s.pid} A 127\\.0\\.0\\.1 `, 'm'));
    expect(readFileSync(victim, 'utf8')).toBe('root-owned secrets\n');
    expect(execFileSync('find', [join(state, 'sb'), '-type', 'l'], { encoding: 'utf8' })).toBe('');
  });

  it('answers the status page, serves static files and keeps logging with 5 FIFOs, a /dev/zero link and a 1 GiB file in it', async () => {
    const planted = ['status_990001', 'status_990002', 'status_990003', 'status_990004', 'status_990005'];
    const s = await start(() => {
      const sb = join(state, 'sb');
      mkdirSync(sb, { mode: 0o700 });
      for (const name of planted) execFileSync('mkfifo', [join(sb, name)]);
      // Named after live processes, so a reader cannot dismiss them as dead before reading.
      symlinkSync('/dev/zero', join(sb, `status_${process.pid}`));
      writeFileSync(join(sb, 'status_1'), '');
      truncateSync(join(sb, 'status_1'), 1024 ** 3);
    });
    const before = peakRss(s.pid);
    for (let i = 0; i < 3; i++) {
      const page = await get(s.url, '/server-status');
      expect(page.status).toBe(200);
      expect(page.text).toMatch(new RegExp(`^${s.pid} A 127\\.0\\.0\\.1 `, 'm'));
      expect((await get(s.url, `/static/page.txt?${i}`)).text).toBe('static page\n');
    }
    const log = join(state, 'access.log');
    await until(
      () => existsSync(log) && (readFileSync(log, 'utf8').match(/GET \/static\/page\.txt/g) ?? []).length === 3,
      'three static requests in the access log',
    );
    // What a reader holds is bounded by the record size, whatever the entries claim to be.
    expect(peakRss(s.pid) - before).toBeLessThan(64 * 1024);
    // Not ours, so never removed either: an operator finds them where they were planted.
    expect(readdirSync(join(state, 'sb')).filter((n) => planted.includes(n))).toEqual(planted);
    // And plank-status reads the same directory without hanging. The worker's slot turns idle
    // once the last response has left (a finish handler), so a reader may first see it busy.
    const status = await until(() => {
      const run = spawnSync(
        process.execPath,
        [
          fileURLToPath(new URL('../../../packages/middleware-server-status-lite/dist/bin.js', import.meta.url)),
          '--scoreboard',
          join(state, 'sb'),
        ],
        { encoding: 'utf8', timeout: 10_000 },
      );
      expect(run.status).toBe(0);
      return run.stdout.includes(`${s.pid} _ 127.0.0.1`) ? run : undefined;
    }, 'plank-status to show the worker idle');
    expect(status.stdout).toContain(`${s.pid} _ 127.0.0.1`);
  });
});

describe('an untrusted scoreboard directory at start-up', () => {
  const check = () =>
    spawnSync(process.execPath, [plankup, '--check', checkApp], {
      encoding: 'utf8',
      env: { ...process.env, STATE: state },
      timeout: 20_000,
    });
  const tree = (): string =>
    execFileSync('find', [state, '-printf', '%P %y %m %u %s\n'], { encoding: 'utf8' }).split('\n').sort().join('\n');

  it('plankup --check writes nothing for a scoreboard that does not exist yet', () => {
    const before = tree();
    const r = check();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(tree()).toBe(before);
    expect(existsSync(join(state, 'var'))).toBe(false);
  });

  it('refuses a directory owned by another user, then one writable by everyone, each in one line', () => {
    const sb = join(state, 'var', 'sb');
    mkdirSync(sb, { recursive: true, mode: 0o700 });
    chownSync(sb, 65534, 65534);
    const theirs = check();
    expect(theirs.status).toBe(1);
    expect(theirs.stderr).toMatch(
      new RegExp(
        `^plankup: [^\\n]*serverStatusLite\\(\\): refusing the directory "${sb}" owned by uid 65534 with mode 0700: [^\\n]*\\n$`,
      ),
    );
    chownSync(sb, process.geteuid?.() ?? 0, 0);
    chmodSync(sb, 0o777);
    const open = check();
    expect(open.status).toBe(1);
    expect(open.stderr).toMatch(
      new RegExp(
        `^plankup: [^\\n]*serverStatusLite\\(\\): refusing the directory "${sb}" owned by uid \\d+ with mode 0777: [^\\n]*\\n$`,
      ),
    );
  });
});
