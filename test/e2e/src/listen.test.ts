import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, until } from '@plank/test';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'packages/cli/dist/bin.js');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function appDir(): string {
  const base = join(root, 'test/e2e/.tmp');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'listen-'));
  writeFileSync(join(dir, 'app.mjs'), `export default () => [200, ['Content-Type', 'text/plain'], ['here']];\n`);
  return dir;
}

/** Starts `command` and resolves with its pid and the start-up lines once `count` were printed. */
async function started(command: string[], count: number): Promise<{ pid: number; lines: string[] }> {
  const [file, ...args] = command as [string, ...string[]];
  const child = spawn(file, args, { cwd: appDir(), stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const lines = await until(() => {
    if (child.exitCode !== null) throw new Error(`plankup exited ${child.exitCode}: ${err}`);
    const found = err.split('\n').filter((l) => l.includes(' listening on '));
    return found.length >= count && found;
  }, 'the start-up lines');
  return { pid: child.pid as number, lines };
}

/**
 * The TCP addresses process `pid` listens on, as the kernel has them: its socket descriptors,
 * looked up in /proc/PID/net/tcp and tcp6 (which show the process's own network namespace).
 */
function kernelListening(pid: number): string[] {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`)
      .map((fd) => /^socket:\[(\d+)\]$/.exec(safeReadlink(`/proc/${pid}/fd/${fd}`))?.[1])
      .filter((inode) => inode !== undefined),
  );
  const out: string[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const row of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1)) {
      const [, local, , state, , , , , , inode] = row.trim().split(/\s+/) as string[];
      if (state !== '0A' || !inodes.has(inode as string)) continue; // 0A: LISTEN
      const [hex, port] = (local as string).split(':') as [string, string];
      out.push(`${table === 'tcp' ? ipv4(hex) : `[${ipv6(hex)}]`}:${Number.parseInt(port, 16)}`);
    }
  }
  return out.sort();
}

function safeReadlink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

// /proc writes addresses as 32-bit words in host (little-endian) order.
const words = (hex: string): Buffer[] => (hex.match(/.{8}/g) as string[]).map((w) => Buffer.from(w, 'hex').reverse());
const ipv4 = (hex: string): string => [...(words(hex)[0] as Buffer)].join('.');
function ipv6(hex: string): string {
  const bytes = Buffer.concat(words(hex));
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2).toString(16));
  const full = `:${groups.join(':')}:`;
  // The longest run of zero groups becomes "::", as every tool prints IPv6.
  const runs = full.match(/(?::0)+:/g) ?? [];
  const longest = runs.reduce((a, b) => (b.length > a.length ? b : a), '');
  return (longest ? full.replace(longest, '::') : full).replace(/^:(?!:)|(?<!:):$/g, '');
}

/** `http://[::1]:5000/ ...` → `[::1]:5000`, the form kernelListening() gives. */
const addressOf = (line: string): string => (/listening on http:\/\/(\S+?)\//.exec(line)?.[1] as string) ?? line;

describe('the start-up line', () => {
  it.each(['node', 'fastify'])('-s %s names exactly the loopback addresses it bound, IPv4 and IPv6', async (server) => {
    const [p4, p6] = [await freePort(), await freePort()];
    const run = await started(
      [process.execPath, bin, '-s', server, '-E', 'deployment', '-l', `127.0.0.1:${p4}`, '-l', `[::1]:${p6}`],
      2,
    );
    expect(run.lines).toEqual([
      `plankup: ${server} server listening on http://127.0.0.1:${p4}/`,
      `plankup: ${server} server listening on http://[::1]:${p6}/`,
    ]);
    expect(kernelListening(run.pid)).toEqual(run.lines.map(addressOf).sort());
  });

  it.each(['node', 'fastify'])('-s %s names the address a host name resolved to', async (server) => {
    const port = await freePort();
    const run = await started(
      [process.execPath, bin, '-s', server, '-E', 'deployment', '-o', 'localhost', '-p', String(port)],
      1,
    );
    expect(run.lines[0]).toMatch(
      new RegExp(`^plankup: ${server} server listening on http://(127\\.0\\.0\\.1|\\[::1\\]):${port}/$`),
    );
    expect(kernelListening(run.pid)).toEqual(run.lines.map(addressOf));
  });

  // Without -o the server listens on every interface; the test runs it in a network namespace
  // of its own (unshare -n), where every interface is only a loopback nobody else can reach.
  it.each(['node', 'fastify'])(
    '-s %s without -o says it listens on every interface, as the kernel shows',
    async (server) => {
      const run = await started(
        ['unshare', '-n', process.execPath, bin, '-s', server, '-E', 'deployment', '-p', '5000'],
        1,
      );
      expect(run.lines).toEqual([
        `plankup: ${server} server listening on http://[::]:5000/ (every interface, IPv4 and IPv6)`,
      ]);
      expect(kernelListening(run.pid)).toEqual(['[::]:5000']);
    },
  );

  it('keeps the words of a server that already says where it listens, and adds none of its own', async () => {
    // A server found by path (`-s +./words.mjs`) whose URLs carry their own note, as prefork's do.
    const dir = appDir();
    writeFileSync(
      join(dir, 'words.mjs'),
      `let stop;
       export const plankServer = {
         name: 'words',
         async run() {
           const closed = new Promise((resolve) => (stop = resolve));
           return { urls: ['http://[::]:5000/ (every interface, IPv4 and IPv6)', 'http://0.0.0.0:5001/'], closed, async close() { stop(0); } };
         },
       };\n`,
    );
    const child = spawn(process.execPath, [bin, '-s', '+./words.mjs', '-E', 'deployment', 'app.mjs'], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    await until(() => err.split('\n').filter((l) => l.includes(' listening on ')).length >= 2, 'the start-up lines');
    expect(err.split('\n').filter((l) => l.includes(' listening on '))).toEqual([
      'plankup: words server listening on http://[::]:5000/ (every interface, IPv4 and IPv6)',
      'plankup: words server listening on http://0.0.0.0:5001/ (every IPv4 interface)',
    ]);
  });
});
