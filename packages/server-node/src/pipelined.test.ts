import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onFinish } from '@plank/core';
import type { App, FinishInfo } from '@plank/core';
import { serve, type ServerHandle } from '@plank/server-node';
import { until } from '@plank/test';

let dir = '';
let bigFile = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plank-pipelined-'));
  bigFile = join(dir, 'big.bin');
  await writeFile(bigFile, Buffer.alloc(1024 * 1024, 98));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const openFds = (): number => readdirSync('/proc/self/fd').length;

async function withServer(app: App, fn: (port: number) => Promise<void>): Promise<void> {
  const handle: ServerHandle = await serve(app, { host: '127.0.0.1', port: 0, errors: { write: () => true } });
  try {
    await fn(handle.port as number);
  } finally {
    await handle.close({ timeout: 500 });
  }
}

/** Sends `count` pipelined GETs in one write and reads nothing back. */
function pipelineGets(port: number, count: number, path = '/'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`.repeat(count));
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

describe('pipelined requests whose client goes away', () => {
  it('run the finish handlers of every queued response, marked aborted', async () => {
    const infos: FinishInfo[] = [];
    const app: App = (env) => {
      onFinish(env, (info) => infos.push(info));
      return [200, ['Content-Type', 'application/octet-stream'], { path: bigFile }];
    };
    await withServer(app, async (port) => {
      const socket = await pipelineGets(port, 20);
      await until(() => socket.readableLength > 0, 'the first response to start');
      socket.destroy();
      await until(() => infos.length === 20, 'a finish report for each of the 20 requests');
      // The kernel's socket buffers may have taken the first few whole; the rest never went out.
      expect(infos.every((info) => info.aborted || info.bodyBytes === 1024 * 1024)).toBe(true);
      expect(infos.filter((info) => info.aborted).length).toBeGreaterThanOrEqual(15);
    });
  });

  it('open no file for a response still queued, and close every one when the connection closes', async () => {
    let made = 0;
    const app: App = () => {
      made += 1;
      return [200, ['Content-Type', 'application/octet-stream'], { path: bigFile }];
    };
    await withServer(app, async (port) => {
      const before = openFds();
      const socket = await pipelineGets(port, 50);
      await until(() => made === 50, 'the app to answer all 50 requests');
      // The client reads nothing: one file is being sent, 49 responses wait their turn.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(openFds() - before).toBeLessThanOrEqual(3);
      socket.destroy();
      await until(() => openFds() <= before, 'the descriptors to be released');
    });
  });

  it('destroy the stream bodies of queued responses and return the generator under way', async () => {
    const destroyed: number[] = [];
    const returned: number[] = [];
    let n = 0;
    const app: App = () => {
      const i = n++;
      if (i % 2 === 1) {
        const stream = new Readable({ read: () => stream.push(Buffer.alloc(64 * 1024, 99)) });
        stream.on('close', () => destroyed.push(i));
        return [200, ['Content-Type', 'application/octet-stream'], stream];
      }
      async function* forever(): AsyncGenerator<Buffer> {
        try {
          for (;;) yield Buffer.alloc(64 * 1024, 100);
        } finally {
          returned.push(i);
        }
      }
      return [200, ['Content-Type', 'application/octet-stream'], forever()];
    };
    await withServer(app, async (port) => {
      const socket = await pipelineGets(port, 10);
      await until(() => n === 10, 'the app to answer all 10 requests');
      socket.destroy();
      await until(() => destroyed.length === 5, 'the 5 streams to be destroyed');
      // The one under way is returned; the queued ones never started, so hold nothing.
      await until(() => returned.includes(0), 'the generator under way to be returned');
    });
  });

  it('let go of the body of a response the app produced after the client left, and report it aborted', async () => {
    const infos: FinishInfo[] = [];
    let closed = false;
    let arrived: () => void = () => {};
    const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
    let answer: () => void = () => {};
    const app: App = (env) => {
      onFinish(env, (info) => infos.push(info));
      arrived();
      return new Promise((resolve) => {
        answer = () => {
          const stream = new Readable({ read: () => stream.push('x') });
          stream.on('close', () => (closed = true));
          resolve([200, ['Content-Type', 'text/plain'], stream]);
        };
      });
    };
    await withServer(app, async (port) => {
      const socket = await pipelineGets(port, 1);
      await requestArrived;
      socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer();
      await until(() => closed && infos.length === 1, 'the stream to be destroyed and the finish report');
      expect(infos[0]?.aborted).toBe(true);
    });
  });
});
