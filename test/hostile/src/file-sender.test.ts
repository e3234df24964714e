// The file sender under attack (SECURITY.md, issue #13 item 1): a client that pipelines
// downloads and goes away, or cuts one off, must leave no descriptor and no buffer behind,
// for whole files, single ranges and multipart ranges alike. On the code before the fix,
// 200 pipelined GETs of a 1 MiB file then a disconnect left 196 descriptors open for good.
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builder } from '@plank/core';
import { serveStatic } from '@plank/middleware-static';
import { serve, type ServerHandle } from '@plank/server-node';
import { until } from '@plank/test';

const SIZE = 1024 * 1024; // larger than the sender's 256 KiB read, so every body takes several reads
let dir = '';
let handle: ServerHandle;
let port = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plank-hostile-files-'));
  await mkdir(join(dir, 'static'));
  await writeFile(join(dir, 'static', 'big.bin'), Buffer.alloc(SIZE, 120));
  const app = builder(({ enable }) => {
    enable(serveStatic({ path: '/static/', root: dir }));
    return () => [200, ['Content-Type', 'text/plain'], ['app']];
  });
  handle = await serve(app, { host: '127.0.0.1', port: 0, errors: { write: () => true } });
  port = handle.port as number;
});
afterAll(async () => {
  await handle?.close({ timeout: 500 });
  await rm(dir, { recursive: true, force: true });
});

const openFds = (): number => readdirSync('/proc/self/fd').length;

function connectAndSend(request: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(request);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

const get = (extra = ''): string => `GET /static/big.bin HTTP/1.1\r\nHost: a\r\n${extra}\r\n`;

/** Pipelines `request` `count` times, reads nothing until the first bytes arrive, then disconnects. */
async function pipelineAndLeave(request: string, count: number): Promise<void> {
  const socket = await connectAndSend(request.repeat(count));
  await until(() => socket.readableLength > 0, 'the first response');
  socket.destroy();
}

describe('the file sender, against clients that pipeline and leave', () => {
  it('200 pipelined downloads of a large file, then a disconnect, leave no descriptor open', async () => {
    const before = openFds();
    await pipelineAndLeave(get(), 200);
    await until(() => openFds() <= before, 'the descriptors to come back to their count before the attack');
  });

  it('a queued download holds no descriptor while it waits for its turn', async () => {
    const before = openFds();
    const socket = await connectAndSend(get().repeat(100));
    await until(() => socket.readableLength > 0, 'the first response');
    // Let the server parse and answer every request it has: all but one are queued.
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The client's socket, the server's end of it, and the one file being sent.
    expect(openFds() - before).toBeLessThanOrEqual(3);
    socket.destroy();
    await until(() => openFds() <= before, 'the descriptors to come back');
  });

  it('pipelined single-range and multipart-range downloads, then a disconnect, leave no descriptor open', async () => {
    const before = openFds();
    await pipelineAndLeave(get('Range: bytes=1000-900000\r\n'), 100);
    await pipelineAndLeave(get('Range: bytes=0-300000,400000-800000,900000-\r\n'), 100);
    await until(() => openFds() <= before, 'the descriptors to come back');
  });

  it('a download cut off in the middle of its body closes its file', async () => {
    const before = openFds();
    const socket = await connectAndSend(get());
    await until(() => socket.readableLength > 0, 'the first bytes');
    expect(openFds()).toBeGreaterThan(before);
    socket.destroy();
    await until(() => openFds() <= before, 'the descriptor to be closed');
  });

  it('keeps serving whole files byte for byte after the attacks', async () => {
    const socket = await connectAndSend(`${get().replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')}`);
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    await new Promise((resolve) => socket.once('end', resolve));
    const all = Buffer.concat(chunks);
    const body = all.subarray(all.indexOf('\r\n\r\n') + 4);
    expect(all.subarray(0, 15).toString()).toBe('HTTP/1.1 200 OK');
    expect(body.equals(Buffer.alloc(SIZE, 120))).toBe(true);
  });
});
