import { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { attachUnframed, forwardDrain, kNeedDrain } from './node-internals.js';

// These fail when a Node release changes the private fields the bridge relies on.
describe("node's private fields the bridge uses", () => {
  function pair(highWaterMark = 16) {
    const written: Buffer[] = [];
    let release: (() => void) | undefined;
    const socket = new Writable({
      highWaterMark,
      write(chunk: Buffer, _enc, done) {
        written.push(chunk);
        release = done;
      },
    });
    const req = new IncomingMessage(null as never);
    req.method = 'GET';
    req.httpVersionMajor = 1;
    req.httpVersionMinor = 1;
    const res = new ServerResponse(req);
    attachUnframed(res, socket as never);
    forwardDrain(res, socket as never);
    return { res, written, drain: () => release?.() };
  }

  it('writes an unframed body (no chunked encoding) once the socket is attached', async () => {
    const { res, written } = pair(1 << 20);
    res.setHeader('Content-Type', 'text/plain');
    res.write('hello');
    await new Promise((resolve) => setImmediate(resolve)); // node corks the socket for one tick
    const text = Buffer.concat(written).toString();
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).not.toMatch(/transfer-encoding/i);
    expect(text.endsWith('\r\n\r\nhello')).toBe(true);
  });

  it('marks a write that filled the socket with kNeedDrain, and clears it on drain', async () => {
    const { res, drain } = pair(16);
    expect(kNeedDrain(res)).toBeTypeOf('symbol');
    expect(res.write('x'.repeat(64))).toBe(false);
    expect(res.writableNeedDrain).toBe(true);
    const drained = new Promise((resolve) => res.once('drain', resolve));
    await new Promise((resolve) => setImmediate(resolve)); // node corks the socket for one tick
    drain();
    await drained;
    expect(res.writableNeedDrain).toBe(false);
  });
});
