import { closeSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { encodeHeader, HEADER, seal } from './record.js';
import { replaceFile } from './safe-fs.js';

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
   * counters, in one positioned write. The first update creates the file (and the directory).
   * Never throws: a failed write is reported once on stderr and the slot goes quiet, because
   * a status page must never break the requests.
   */
  update(payload: string, requests?: number, bytes?: number): void;
  /** Closes the file; it stays on disk so that a reader can fold its counters in. */
  close(): void;
};

/** The file name of a worker's slot, as Parallel::Scoreboard names them. */
export function slotFileName(pid: number): string {
  return `status_${pid}`;
}

/**
 * Where and how a slot file is made: `prepare` creates and checks the directory (it throws
 * when the directory cannot be trusted), `mode` is the file's permission bits.
 */
export type SlotPlace = { dir: string; mode: number; prepare: () => void };

export function openSlot(place: SlotPlace, recordSize: number, slotId: number, startedAt: number): Slot {
  const pid = process.pid;
  const path = join(place.dir, slotFileName(pid));
  const buf = Buffer.alloc(recordSize);
  encodeHeader(buf, pid, slotId, startedAt);
  // Opened at the first update, not when asked for: building an app (`plankup --check`)
  // writes nothing. `null` once it failed: the slot stays quiet.
  let fd: number | undefined | null;
  let requests = 0;
  let bytes = 0;
  const fail = (err: unknown): void => {
    process.stderr.write(
      `scoreboard: cannot write ${path}; this worker stops updating it: ${(err as Error).message}\n`,
    );
    if (typeof fd === 'number') {
      try {
        closeSync(fd);
      } catch {
        // already gone
      }
    }
    fd = null;
  };
  const write = (length: number): void => {
    if (fd === null) return;
    try {
      if (fd === undefined) {
        place.prepare();
        // A new file of ours renamed over the name: a symlink planted there is replaced, its
        // target never opened. A file of this pid can only be left by a dead process.
        // The whole record once, so the file has its fixed size from the start.
        fd = replaceFile(path, buf, place.mode, true);
        return;
      }
      // writeSync, not fs.write: measured on this machine, a 200-byte pwrite to the page cache
      // costs ~1 µs of CPU, while the async call costs ~16 µs (thread pool hop and callback)
      // and would need a queue to keep two updates of one request in order.
      writeSync(fd, buf, 0, length, 0);
    } catch (err) {
      fail(err);
    }
  };
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
      if (typeof fd === 'number') closeSync(fd);
      fd = null;
    },
  };
}
