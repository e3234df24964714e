import { Duplex } from 'node:stream';
import type { Env } from '@plank/core';

/**
 * The socket a bridged `req`/`res` pair sees: it reports the addresses from env (so
 * `req.socket.remoteAddress`, `req.ip` and `req.secure` mean what they mean on a real server)
 * and hands every byte node writes for the response to `sink`, which calls back once the bytes
 * have gone on; node's own backpressure (`res.write()` returning false, `'drain'`) follows.
 */
export class BridgeSocket extends Duplex {
  readonly remoteAddress: string;
  readonly remotePort: number | undefined;
  readonly remoteFamily: string;
  readonly localAddress: string;
  readonly localPort: number;
  readonly encrypted: boolean;
  readonly #sink: (chunk: Buffer, done: (error?: Error | null) => void) => void;

  constructor(env: Env, sink: (chunk: Buffer, done: (error?: Error | null) => void) => void) {
    super({ allowHalfOpen: true });
    this.#sink = sink;
    this.remoteAddress = env.REMOTE_ADDR;
    this.remotePort = env.REMOTE_PORT === undefined ? undefined : Number(env.REMOTE_PORT);
    this.remoteFamily = env.REMOTE_ADDR.includes(':') ? 'IPv6' : 'IPv4';
    this.localAddress = env.SERVER_NAME;
    this.localPort = Number(env.SERVER_PORT);
    this.encrypted = env['psgi.url_scheme'] === 'https';
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.#sink(chunk, done);
  }

  // node:http and express call these on a real socket; here there is nothing to tune.
  setTimeout(_ms: number, _cb?: () => void): this {
    return this;
  }
  setNoDelay(_noDelay?: boolean): this {
    return this;
  }
  setKeepAlive(_enable?: boolean, _delay?: number): this {
    return this;
  }
}
