import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { encodeHeader, HEADER, seal } from './record.js';

/** This process's slot: the only writer of its file. */
export type Slot = {
  readonly pid: number;
  readonly path: string;
  /** Bytes of payload that fit; a longer payload is cut there. */
  readonly capacity: number;
  /** Requests and body bytes counted so far by this process. */
  readonly requests: number;
  readonly bytes: number;
  /**
   * Rewrites the record: the new payload, with `requests` and `bytes` added to this worker's
   * counters, in one positioned write. Never throws: a failed write is reported once on
   * stderr and the slot goes quiet, because a status page must never break the requests.
   */
  update(payload: string, requests?: number, bytes?: number): void;
  /** Closes the file; it stays on disk so that a reader can fold its counters in. */
  close(): void;
};

/** The file name of a worker's slot, as Parallel::Scoreboard names them. */
export function slotFileName(pid: number): string {
  return `status_${pid}`;
}

export function openSlot(dir: string, recordSize: number, slotId: number, startedAt: number): Slot {
  const pid = process.pid;
  const path = join(dir, slotFileName(pid));
  const buf = Buffer.alloc(recordSize);
  encodeHeader(buf, pid, slotId, startedAt);
  // A slot file of this pid can only be left over from a dead process that had the same pid.
  let fd: number | undefined = openSync(path, 'w', 0o644);
  let requests = 0;
  let bytes = 0;
  const write = (length: number): void => {
    if (fd === undefined) return;
    try {
      // writeSync, not fs.write: measured on this machine, a 200-byte pwrite to the page cache
      // costs ~1 µs of CPU, while the async call costs ~16 µs (thread pool hop and callback)
      // and would need a queue to keep two updates of one request in order.
      writeSync(fd, buf, 0, length, 0);
    } catch (err) {
      process.stderr.write(
        `scoreboard: cannot write ${path}; this worker stops updating it: ${(err as Error).message}\n`,
      );
      try {
        closeSync(fd);
      } catch {
        // already gone
      }
      fd = undefined;
    }
  };
  // The whole record once, so the file has its fixed size from the start.
  seal(buf, 0, 0, '');
  write(buf.length);
  return {
    pid,
    path,
    capacity: recordSize - HEADER,
    get requests() {
      return requests;
    },
    get bytes() {
      return bytes;
    },
    update(payload, addRequests = 0, addBytes = 0) {
      requests += addRequests;
      bytes += addBytes;
      write(seal(buf, requests, bytes, payload));
    },
    close() {
      if (fd === undefined) return;
      closeSync(fd);
      fd = undefined;
    },
  };
}
