import type { ServerResponse } from 'node:http';
import { chunkLength } from '@plank/core';
import type { Chunk, Writer } from '@plank/core';
import type { Progress } from './send-file.js';

// The writer a streaming app gets from `respond([status, headers])`.

/** What `respond()` returns when there is nothing to write to (a response already answered). */
export const closedWriter: Writer = {
  aborted: false,
  write: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

/** Writes a streaming response's body at the client's pace: `write()` resolves once node took the chunk, or after `'drain'`. */
export class NodeWriter implements Writer {
  readonly #res: ServerResponse;
  readonly #progress: Progress;
  readonly #drop: boolean;
  #closing: Promise<void> | undefined;
  #corked = false;

  // Chunks written in one turn of the event loop (a loop of awaited writes that never
  // waits for the network, then close()) leave in one packet instead of one each.
  static #uncork(writer: NodeWriter): void {
    if (!writer.#corked) return;
    writer.#corked = false;
    writer.#res.uncork();
  }

  constructor(res: ServerResponse, progress: Progress, drop: boolean) {
    this.#res = res;
    this.#progress = progress;
    this.#drop = drop;
  }

  get aborted(): boolean {
    return this.#progress.aborted;
  }

  write(chunk: Chunk): Promise<void> {
    const progress = this.#progress;
    if (progress.aborted || this.#drop || this.#closing) return Promise.resolve();
    const n = chunkLength(chunk);
    if (n === 0) return Promise.resolve();
    progress.bytes += n;
    const res = this.#res;
    if (!this.#corked) {
      this.#corked = true;
      res.cork();
      setImmediate(NodeWriter.#uncork, this);
    }
    if (res.write(chunk)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        res.removeListener('drain', wake);
        if (progress.wake === wake) progress.wake = undefined;
        resolve();
      };
      progress.wake = wake;
      res.once('drain', wake);
    });
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    const res = this.#res;
    this.#closing = new Promise<void>((resolve) => {
      if (res.closed) return resolve();
      res.once('close', () => resolve());
      // Uncork before end(): Node 24's end() on a corked response sends the chunks written
      // since cork() after the terminating chunk (the client sees data after the end).
      NodeWriter.#uncork(this);
      if (!res.writableEnded) res.end();
    });
    return this.#closing;
  }
}
