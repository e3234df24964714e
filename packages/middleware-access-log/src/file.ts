import { linkSync, readFileSync, readdirSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ErrorReporter, Sink } from './sink.js';
import { appendWriter, type Target } from './writer.js';

/** A rotation period: `daily`, `hourly`, `Nh`, `Nm` or (mostly for tests) `Ns`. */
export type Rotate = 'daily' | 'hourly' | `${number}h` | `${number}m` | `${number}s`;

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

type Period = { unit: 'd' | 'h' | 'm' | 's'; n: number };

/** Parses a rotate option; undefined when it is not one. */
export function parseRotate(rotate: string): Period | undefined {
  if (rotate === 'daily') return { unit: 'd', n: 1 };
  if (rotate === 'hourly') return { unit: 'h', n: 1 };
  const m = /^([1-9]\d*)([hms])$/.exec(rotate);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] as 'h' | 'm' | 's';
  const perDay = unit === 'h' ? 24 : unit === 'm' ? 1440 : 86_400;
  return n <= perDay ? { unit, n } : undefined;
}

const p2 = (n: number): string => String(n).padStart(2, '0');

type Clock = { Y: number; M: number; D: number; h: number; m: number; s: number };
function clock(ms: number, utc: boolean): Clock {
  const d = new Date(ms);
  return utc
    ? {
        Y: d.getUTCFullYear(),
        M: d.getUTCMonth(),
        D: d.getUTCDate(),
        h: d.getUTCHours(),
        m: d.getUTCMinutes(),
        s: d.getUTCSeconds(),
      }
    : { Y: d.getFullYear(), M: d.getMonth(), D: d.getDate(), h: d.getHours(), m: d.getMinutes(), s: d.getSeconds() };
}
function at(c: Clock, utc: boolean): number {
  return utc ? Date.UTC(c.Y, c.M, c.D, c.h, c.m, c.s) : new Date(c.Y, c.M, c.D, c.h, c.m, c.s).getTime();
}

/**
 * The period holding `ms`: its name (what replaces %DATE%) and when the next one starts.
 * Periods are aligned on the day, so every process computes the same names.
 */
export function periodAt(ms: number, period: Period, utc: boolean): { name: string; next: number } {
  const c = clock(ms, utc);
  const day = `${c.Y}-${p2(c.M + 1)}-${p2(c.D)}`;
  const midnight = at({ ...c, D: c.D + 1, h: 0, m: 0, s: 0 }, utc);
  if (period.unit === 'd') return { name: day, next: midnight };
  if (period.unit === 'h') {
    const h = c.h - (c.h % period.n);
    return { name: `${day}-${p2(h)}`, next: Math.min(midnight, at({ ...c, h: h + period.n, m: 0, s: 0 }, utc)) };
  }
  if (period.unit === 'm') {
    const of = c.h * 60 + c.m;
    const start = of - (of % period.n);
    return {
      name: `${day}-${p2(Math.floor(start / 60))}${p2(start % 60)}`,
      next: Math.min(midnight, at({ ...c, h: 0, m: start + period.n, s: 0 }, utc)),
    };
  }
  const of = c.h * 3600 + c.m * 60 + c.s;
  const start = of - (of % period.n);
  const name = `${day}-${p2(Math.floor(start / 3600))}${p2(Math.floor(start / 60) % 60)}${p2(start % 60)}`;
  return { name, next: Math.min(midnight, at({ ...c, h: 0, m: 0, s: start + period.n }, utc)) };
}

/**
 * Appends lines to a file opened with O_APPEND, one synchronous write per event-loop turn,
 * so a batch of whole lines lands at the end of the file in one piece even when other
 * processes append to the same file. With `rotate`, the file name follows the clock; each
 * process switches files on its own at the first batch after the boundary, and one process
 * (elected through an owner file beside the logs) prunes old files and moves the symlink.
 * Nothing is created before the first line is written.
 */
export function fileSink(options: FileSinkOptions, report: ErrorReporter): Sink {
  const { path: template, utc = false, mode = 0o644 } = options;
  const period = options.rotate ? parseRotate(options.rotate) : undefined;
  const dir = dirname(template);
  const base = basename(template);
  const linkPath =
    options.symlink === true
      ? template.replace(/[.\-_]?%DATE%/, '')
      : typeof options.symlink === 'string'
        ? options.symlink
        : undefined;
  const ownerPath = join(dir, `.${base.replace(/%DATE%/g, 'DATE')}.owner`);
  const [before, after] = base.split('%DATE%') as [string, string | undefined];
  const matcher =
    after === undefined
      ? undefined
      : new RegExp(`^${escapeRe(before)}(\\d{4}-\\d{2}-\\d{2}(?:-\\d{2,6})?)${escapeRe(after)}$`);

  let current = '';
  let closed = false;
  let owner = false;

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
      current = path;
      if (period || linkPath) housekeep(now);
    },
  };
  const writer = appendWriter(target, report, options.maxPending);

  function housekeep(now: number): void {
    try {
      owner = claimOwner(ownerPath);
      if (!owner) return;
      if (linkPath && linkPath !== current) relink(linkPath, current);
      if (matcher && options.keep !== undefined) prune(now);
    } catch (err) {
      report(err as Error);
    }
  }

  function prune(now: number): void {
    const files = readdirSync(dir)
      .map((f) => [f, matcher?.exec(f)?.[1]] as const)
      .filter((x): x is readonly [string, string] => x[1] !== undefined)
      .sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    const keep = options.keep as number | string;
    let doomed: string[];
    if (typeof keep === 'number') {
      doomed = files.slice(0, Math.max(0, files.length - keep)).map((f) => f[0]);
    } else {
      const cutoff = periodAt(now - Number.parseInt(keep, 10) * 86_400_000, { unit: 'd', n: 1 }, utc).name;
      doomed = files.filter((f) => f[1].slice(0, 10) < cutoff).map((f) => f[0]);
    }
    for (const f of doomed) {
      if (join(dir, f) === current) continue;
      try {
        unlinkSync(join(dir, f));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') report(err as Error);
      }
    }
  }

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

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// The owner file holds a pid. link(2) is atomic and fails on an existing name, so two
// processes cannot both create it; a file left by a dead process is taken over.
function claimOwner(path: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    let pid = Number.NaN;
    try {
      pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (pid === process.pid) return true;
    if (Number.isInteger(pid) && alive(pid)) return false;
    const tmp = `${path}.${process.pid}`;
    writeFileSync(tmp, String(process.pid));
    try {
      if (Number.isInteger(pid)) {
        // Stale: replace it; whoever renames last wins, and the loser sees a live pid next time.
        renameSync(tmp, path);
      } else {
        linkSync(tmp, path);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      try {
        unlinkSync(tmp);
      } catch {
        // renamed away
      }
    }
  }
  try {
    return Number.parseInt(readFileSync(path, 'utf8'), 10) === process.pid;
  } catch {
    return false;
  }
}

function releaseOwner(path: string): void {
  try {
    if (Number.parseInt(readFileSync(path, 'utf8'), 10) === process.pid) unlinkSync(path);
  } catch {
    // gone already
  }
}

// A new link is made beside the old one and renamed over it, so readers never see no link.
function relink(link: string, target: string): void {
  const tmp = `${link}.${process.pid}.tmp`;
  try {
    unlinkSync(tmp);
  } catch {
    // none left over
  }
  symlinkSync(dirname(link) === dirname(target) ? basename(target) : target, tmp);
  renameSync(tmp, link);
}
