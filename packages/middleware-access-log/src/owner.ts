import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';

// Exactly one process of those appending to a rotating log prunes old files and moves the
// symlink: the one whose pid is in a small owner file beside the logs.

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
export function claimOwner(path: string): boolean {
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

export function releaseOwner(path: string): void {
  try {
    if (Number.parseInt(readFileSync(path, 'utf8'), 10) === process.pid) unlinkSync(path);
  } catch {
    // gone already
  }
}
