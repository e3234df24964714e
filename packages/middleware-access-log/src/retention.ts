import { readdirSync, renameSync, symlinkSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { periodAt } from './period.js';

// What the owner of a rotating log does after each switch: prune files past `keep`, and
// point the symlink at the current file.

/** Matches the files a `%DATE%` template makes, capturing the date part; undefined without `%DATE%`. */
export function datedFiles(template: string): RegExp | undefined {
  const [before, after] = basename(template).split('%DATE%') as [string, string | undefined];
  if (after === undefined) return undefined;
  return new RegExp(`^${escapeRe(before)}(\\d{4}-\\d{2}-\\d{2}(?:-\\d{2,6})?)${escapeRe(after)}$`);
}

/** Where the pruning happens and what it spares. */
export type Prune = {
  dir: string;
  matcher: RegExp;
  /** Files to keep (a number) or days (`'14d'`). */
  keep: number | string;
  /** Never removed, whatever its date. */
  current: string;
  utc: boolean;
};

/**
 * Removes the oldest dated files past `keep` files, or those older than `keep` days. The
 * names sort by date, so the directory is the record: no audit file to lose or share.
 */
export function prune({ dir, matcher, keep, current, utc }: Prune, now: number, report: (err: Error) => void): void {
  const files = readdirSync(dir)
    .map((f) => [f, matcher.exec(f)?.[1]] as const)
    .filter((x): x is readonly [string, string] => x[1] !== undefined)
    .sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
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

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// A new link is made beside the old one and renamed over it, so readers never see no link.
export function relink(link: string, target: string): void {
  const tmp = `${link}.${process.pid}.tmp`;
  try {
    unlinkSync(tmp);
  } catch {
    // none left over
  }
  symlinkSync(dirname(link) === dirname(target) ? basename(target) : target, tmp);
  renameSync(tmp, link);
}
