import { closeSync, fstatSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ErrorReporter } from './sink.js';

/** Bytes of lines waiting to be written, at most; lines past it are dropped and counted. */
export const MAX_PENDING_BYTES: number = 4 * 1024 * 1024;

// While writing fails, the disk is tried again on a timer that backs off to once a second,
// never each event-loop turn: a full disk must cost the server almost nothing.
const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 1000;
// While writing fails, waiting lines are copied into chunks of this size.
const CHUNK_BYTES = 64 * 1024;
// How often a working file is checked for having been removed or renamed under us.
const CHECK_MS = 1000;

/** Which file the writer appends to, by the caller's rules (rotation). */
export type Target = {
  /** The file for `now`; sets `next`. */
  pathAt(now: number): string;
  /** When the file changes next (the rotation boundary), or Infinity. */
  next: number;
  /** Told after a new file was opened (retention and the symlink hang on this). */
  opened(path: string, now: number): void;
  /** Where the lines go, for messages before any file was opened. */
  readonly name: string;
  /** File mode for new files. */
  readonly mode: number;
};

export type AppendWriter = {
  write(line: string): void;
  /** Writes what waits now, synchronously (one try while writing fails). */
  flushSync(): void;
  /** Flushes and closes the descriptor; lines that still cannot be written are reported as lost. */
  close(): void;
};

type Failure = NodeJS.ErrnoException & { dropped?: number };

// A process that exits (even through process.exit()) still writes what it has: each batch
// is one synchronous write, so there is nothing in flight to lose.
const live = new Set<AppendWriter>();
let exitHook = false;
function onExit(): void {
  for (const w of live) w.close();
}

/**
 * The batched appender behind `file`: lines of one event-loop turn are joined and written
 * with one synchronous `write(2)` to a descriptor opened with O_APPEND.
 *
 * Under write errors (ENOSPC, EIO, EACCES, a removed directory) it keeps the failed batch
 * as bytes with the offset reached, so a partial write is resumed exactly where it stopped:
 * no line is torn or written twice. New lines wait up to {@link MAX_PENDING_BYTES}; past
 * that they are dropped and counted. The disk is retried on a backing-off timer, one error
 * is reported when a failure episode starts and one when writing works again, with the
 * number of lines dropped.
 */
export function appendWriter(
  target: Target,
  report: ErrorReporter,
  maxPending: number = MAX_PENDING_BYTES,
): AppendWriter {
  let fd = -1;
  let path = '';
  // Waiting lines: strings, joined and written once per turn while writing works. While it
  // fails they are copied into byte chunks instead, since a line made by concatenation keeps
  // its pieces alive and thousands of them waiting on a full disk would be copied by every
  // young-generation GC; bytes off the heap cost none. (Copying every line into bytes
  // always was measured: Buffer#write per line cost more than one join per turn.)
  let lines: string[] = [];
  let chunks: Buffer[] = [];
  let chunk: Buffer | undefined;
  let used = 0;
  let pendingBytes = 0;
  let pendingLines = 0;
  // The batch a write failed in, with how far it got.
  let stuck: Buffer | undefined;
  let stuckOff = 0;
  let scheduled = false;
  let failing = false;
  let dropped = 0;
  let retry: NodeJS.Timeout | undefined;
  let retryMs = RETRY_FIRST_MS;
  let nextCheck = 0;

  const closeFd = (): void => {
    if (fd < 0) return;
    try {
      closeSync(fd);
    } catch {
      // already unusable
    }
    fd = -1;
  };

  // Files and directories are created here, at the first write, never before: building an
  // app (plankup --check) writes nothing.
  function reopen(now: number, force: boolean): void {
    const name = target.pathAt(now);
    if (!force && name === path && fd >= 0) return;
    mkdirSync(dirname(name), { recursive: true });
    const nfd = openSync(name, 'a', target.mode);
    closeFd();
    // A batch torn in another file starts over in the new one from its torn line's
    // beginning: the new file gets whole lines only.
    if (stuck && stuckOff > 0) stuckOff = stuck.lastIndexOf(10, stuckOff - 1) + 1;
    fd = nfd;
    path = name;
    nextCheck = now + CHECK_MS;
    target.opened(name, now);
  }

  // A file removed or renamed by hand (or by logrotate) would swallow every later line:
  // once a second, compare the name with the open descriptor and reopen when they differ.
  function vanished(): boolean {
    let byName: ReturnType<typeof statSync>;
    try {
      byName = statSync(path, { throwIfNoEntry: false });
    } catch {
      return true; // ENOTDIR and the like: the path leads nowhere now
    }
    if (!byName) return true;
    const open = fstatSync(fd);
    return byName.ino !== open.ino || byName.dev !== open.dev;
  }

  function writeStuck(): void {
    const buf = stuck as Buffer;
    while (stuckOff < buf.length) stuckOff += writeSync(fd, buf, stuckOff, buf.length - stuckOff);
    stuck = undefined;
    stuckOff = 0;
  }

  function append(line: string): void {
    // At most 3 bytes a UTF-16 unit; escaped lines are ASCII, one byte each.
    const room = line.length * 3;
    if (!chunk || used + room > chunk.length) {
      if (chunk && used > 0) chunks.push(chunk.subarray(0, used));
      chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, room));
      used = 0;
    }
    used += chunk.write(line, used);
  }

  // Writes one batch; when it fails or falls short, it becomes the stuck batch.
  function writeOut(batch: string | Buffer): void {
    let written = 0;
    try {
      written = typeof batch === 'string' ? writeSync(fd, batch) : writeSync(fd, batch);
    } catch (err) {
      stuck = typeof batch === 'string' ? Buffer.from(batch, 'utf8') : batch;
      stuckOff = 0;
      throw err;
    }
    if (written === (typeof batch === 'string' ? Buffer.byteLength(batch) : batch.length)) return;
    // A short write (a full disk, a signal): the rest is resumed from the bytes.
    stuck = typeof batch === 'string' ? Buffer.from(batch, 'utf8') : batch;
    stuckOff = written;
    writeStuck();
  }

  function writePending(): void {
    pendingBytes = 0;
    pendingLines = 0;
    if (chunk) {
      if (used > 0) chunks.push(chunk.subarray(0, used));
      const batch = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      chunks = [];
      chunk = undefined;
      used = 0;
      if (batch.length > 0) writeOut(batch);
    }
    if (lines.length > 0) {
      const text = lines.length === 1 ? (lines[0] as string) : lines.join('');
      lines = [];
      writeOut(text);
    }
  }

  function recovered(): void {
    if (failing || dropped > 0) {
      const limit = `over the ${maxPending}-byte limit of waiting lines`;
      // Without a failure, lines are only dropped when one turn made more than the limit.
      const err: Failure = new Error(
        failing
          ? `writing to ${path} works again; ${dropped} lines were dropped (${limit})`
          : `${dropped} lines for ${path} were dropped: one event-loop turn made more (${limit})`,
      );
      err.code = failing ? 'PLANK_ACCESS_LOG_RECOVERED' : 'PLANK_ACCESS_LOG_DROPPED';
      err.dropped = dropped;
      report(err);
    }
    failing = false;
    dropped = 0;
    retryMs = RETRY_FIRST_MS;
  }

  function failed(err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code;
    // A full disk may take the rest of this very batch on the same file once room is made;
    // anything else (EIO, a descriptor gone bad) gets a fresh open at the next try.
    if (code !== 'ENOSPC' && code !== 'EDQUOT') closeFd();
    if (!failing) {
      failing = true;
      report(err as Error);
    }
    // From now on lines wait as bytes; those already waiting go first.
    for (const line of lines) append(line);
    lines = [];
    if (!retry) {
      retry = setTimeout(() => {
        retry = undefined;
        flushSync();
      }, retryMs);
      retry.unref();
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
    }
  }

  function flushSync(): void {
    scheduled = false;
    if (!stuck && pendingLines === 0) return;
    try {
      const now = Date.now();
      if (fd < 0) reopen(now, false);
      // The rest of a failed batch goes first, to the file its first part went to.
      if (stuck) writeStuck();
      if (now >= target.next) reopen(now, false);
      else if (now >= nextCheck) {
        nextCheck = now + CHECK_MS;
        if (vanished()) reopen(now, true);
      }
      if (pendingLines > 0) writePending();
      recovered();
    } catch (err) {
      failed(err);
    }
  }

  // At close or exit, what still cannot be written is counted in one last report.
  function lose(): void {
    const lost = pendingLines + dropped + (stuck ? countLines(stuck, stuckOff) : 0);
    if (lost === 0) return;
    const err: Failure = new Error(`${lost} lines could not be written to ${path || target.name} and are lost`);
    err.code = 'PLANK_ACCESS_LOG_LOST';
    err.dropped = lost;
    report(err);
    lines = [];
    chunks = [];
    chunk = undefined;
    used = 0;
    pendingBytes = 0;
    pendingLines = 0;
    stuck = undefined;
    dropped = 0;
  }

  const writer: AppendWriter = {
    write(line) {
      if (pendingBytes + line.length > maxPending) {
        dropped++;
        return;
      }
      if (failing) append(line);
      else lines.push(line);
      pendingBytes += line.length;
      pendingLines++;
      if (!scheduled && !failing) {
        scheduled = true;
        setImmediate(flushSync);
      }
    },
    flushSync,
    close() {
      flushSync();
      if (retry) clearTimeout(retry);
      retry = undefined;
      lose();
      closeFd();
      path = '';
      live.delete(writer);
    },
  };
  live.add(writer);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', onExit);
  }
  return writer;
}

function countLines(buf: Buffer, from: number): number {
  let n = 0;
  for (let i = buf.indexOf(10, from); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return n;
}
