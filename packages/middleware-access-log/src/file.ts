import { dirname, join, basename } from 'node:path';
import { claimOwner, releaseOwner } from './owner.js';
import { type Rotate, parseRotate, periodAt } from './period.js';
import { datedFiles, prune, relink } from './retention.js';
import type { ErrorReporter, Sink } from './sink.js';
import { appendWriter, type Target } from './writer.js';

export type FileSinkOptions = {
  /** Path; `%DATE%` is replaced by the period's start (`YYYY-MM-DD`, `-HH`, `HHmm`, `HHmmss` as the period needs). */
  path: string;
  rotate?: Rotate | undefined;
  /** Files to keep (a number) or days to keep (`'14d'`); unset keeps everything. */
  keep?: number | `${number}d` | undefined;
  /** Symlink kept pointing at the current file; `true` names it after `path` without `%DATE%`. */
  symlink?: string | boolean | undefined;
  utc?: boolean | undefined;
  /** File mode for new files. */
  mode?: number | undefined;
  /** Bytes of lines that may wait while writing fails (tests lower it). @default MAX_PENDING_BYTES */
  maxPending?: number | undefined;
};

/**
 * Appends lines to a file opened with O_APPEND, one synchronous write per event-loop turn,
 * so a batch of whole lines lands at the end of the file in one piece even when other
 * processes append to the same file. With `rotate`, the file name follows the clock; each
 * process switches files on its own at the first batch after the boundary, and one process
 * (elected through an owner file beside the logs) prunes old files and moves the symlink.
 * Nothing is created before the first line is written.
 */
export function fileSink(options: FileSinkOptions, report: ErrorReporter): Sink {
  const { path: template, utc = false, mode = 0o644, keep } = options;
  const period = options.rotate ? parseRotate(options.rotate) : undefined;
  const dir = dirname(template);
  const linkPath =
    options.symlink === true
      ? template.replace(/[.\-_]?%DATE%/, '')
      : typeof options.symlink === 'string'
        ? options.symlink
        : undefined;
  const ownerPath = join(dir, `.${basename(template).replace(/%DATE%/g, 'DATE')}.owner`);
  const matcher = datedFiles(template);
  let closed = false;
  let owner = false;

  // After each switch to a new file: the owner, and only it, moves the link and prunes.
  function housekeep(current: string, now: number): void {
    try {
      owner = claimOwner(ownerPath);
      if (!owner) return;
      if (linkPath && linkPath !== current) relink(linkPath, current);
      if (matcher && keep !== undefined) prune({ dir, matcher, keep, current, utc }, now, report);
    } catch (err) {
      report(err as Error);
    }
  }

  const target: Target = {
    next: Number.POSITIVE_INFINITY,
    name: template,
    mode,
    pathAt(now) {
      if (!period) return template;
      const p = periodAt(now, period, utc);
      target.next = p.next;
      return template.replace(/%DATE%/g, p.name);
    },
    opened(path, now) {
      if (period || linkPath) housekeep(path, now);
    },
  };
  const writer = appendWriter(target, report, options.maxPending);

  return {
    write(line) {
      writer.write(line);
      // A late request after close(): append directly rather than lose it.
      if (closed) writer.close();
    },
    flush() {
      writer.flushSync();
      return Promise.resolve();
    },
    close() {
      closed = true;
      writer.close();
      if (owner) releaseOwner(ownerPath);
      owner = false;
      return Promise.resolve();
    },
  };
}
