// Opening files in a shared directory without trusting its entries: never through a symlink
// (O_NOFOLLOW), never blocking (O_NONBLOCK: opening a FIFO for reading would otherwise wait
// for a writer and hold a libuv thread forever, DESIGN.md §8), only regular files (fstat
// after open, so the check and the read are about the same file), and never more than a cap.
// New files are created exclusively (O_EXCL never follows a symlink either) under a temporary
// name and renamed into place: rename replaces a planted symlink, never the file it points to.
import { closeSync, constants, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants;

/**
 * At most `max` bytes of the regular file at `path`; 'missing' when there is none, 'skipped'
 * when it is a symlink, a FIFO, a device, a directory or a socket.
 */
export async function readRegular(path: string, max: number): Promise<Buffer | 'missing' | 'skipped'> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'missing';
    // ELOOP: a symlink; ENXIO: a socket or a device without a driver.
    if (code === 'ELOOP' || code === 'ENXIO' || code === 'EISDIR') return 'skipped';
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return 'skipped';
    const buf = Buffer.alloc(Math.min(max, st.size));
    let n = 0;
    while (n < buf.length) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}

/**
 * Creates `path` with `data` (mode `mode`, before umask) so that no one else's file is ever
 * written: a new file under a temporary name beside it, then renamed over `path`. Returns the
 * open descriptor (still the file at `path`) when `keepOpen`, else closes it.
 */
export function replaceFile(path: string, data: Buffer, mode: number, keepOpen: true): number;
export function replaceFile(path: string, data: Buffer, mode: number, keepOpen?: false): undefined;
export function replaceFile(path: string, data: Buffer, mode: number, keepOpen = false): number | undefined {
  // A leading dot keeps it out of every reader's `status_<pid>` listing.
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
  let fd: number;
  try {
    fd = openSync(tmp, flags, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Left by a process of this pid that died before its rename (or planted): not ours to write.
    unlinkSync(tmp);
    fd = openSync(tmp, flags, mode);
  }
  try {
    let n = 0;
    while (n < data.length) n += writeSync(fd, data, n, data.length - n, n);
    if (!keepOpen) fsyncSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed or gone
    }
    throw err;
  }
  if (keepOpen) return fd;
  closeSync(fd);
  return undefined;
}
