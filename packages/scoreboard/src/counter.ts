// The counter file holds what dead workers counted. Live workers keep their own cumulative
// counters in their slots (one writer each, so no increment is ever lost and the hot path
// takes no lock); the total is this base plus every slot. When a worker is gone, a reader
// folds its counters into the base under a lock file that only folding takes, and records the
// worker's id, so a reader that saw the slot before the fold and the base after it skips the
// slot instead of counting it twice.
import { constants } from 'node:fs';
import { open, stat, unlink } from 'node:fs/promises';
import { readRegular, replaceFile } from './safe-fs.js';
import { isAlive } from './workers.js';

/** Ids kept for dedup: far more folds than can happen while one reader reads. */
const RECENT = 128;
/** A lock older than this is stale even if a process with its pid exists (pid reuse). */
const STALE_MS = 30_000;
/** Far more than 128 ids and two numbers take; what is past it is not read. */
const MAX_BASE_BYTES = 64 * 1024;
const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

export type CounterBase = { requests: number; bytes: number; folded: string[] };

export async function readBase(file: string): Promise<CounterBase> {
  const buf = await readRegular(file, MAX_BASE_BYTES);
  // Missing, or not a regular file (a symlink, a FIFO): counted from zero, and the next fold
  // replaces the entry with a file of ours.
  if (typeof buf === 'string') return { requests: 0, bytes: 0, folded: [] };
  const data = JSON.parse(buf.toString('utf8')) as Partial<CounterBase>;
  return {
    requests: typeof data.requests === 'number' ? data.requests : 0,
    bytes: typeof data.bytes === 'number' ? data.bytes : 0,
    folded: Array.isArray(data.folded) ? data.folded.filter((s): s is string => typeof s === 'string') : [],
  };
}

/** Takes the fold lock, or returns undefined when another live process holds it (the caller folds another time). */
async function lock(file: string, mode: number): Promise<(() => Promise<void>) | undefined> {
  const path = `${file}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // O_EXCL: never through a symlink, never someone else's file.
      const fh = await open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => unlink(path).catch(() => {});
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const held = await readRegular(path, 32).catch(() => 'missing' as const);
      const holder = typeof held === 'string' ? 0 : Number(held.toString('latin1'));
      const age = await stat(path).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      // An empty file is a holder between open and write; leave it be unless it is old.
      if ((holder > 0 && !isAlive(holder)) || age > STALE_MS) await unlink(path).catch(() => {});
      else return undefined;
    }
  }
  return undefined;
}

export type DeadSlot = { path: string; id: string; requests: number; bytes: number };

/**
 * Adds the counters of dead workers to the base and removes their slot files; the files it
 * creates get `mode`. Returns the base as written, or undefined when the lock was busy (the
 * slots stay, still counted).
 */
export async function fold(file: string, dead: DeadSlot[], mode: number): Promise<CounterBase | undefined> {
  const release = await lock(file, mode);
  if (!release) return undefined;
  try {
    const base = await readBase(file);
    const seen = new Set(base.folded);
    for (const d of dead) {
      if (seen.has(d.id)) continue;
      base.requests += d.requests;
      base.bytes += d.bytes;
      base.folded.push(d.id);
      seen.add(d.id);
    }
    if (base.folded.length > RECENT) base.folded = base.folded.slice(-RECENT);
    replaceFile(file, Buffer.from(`${JSON.stringify(base)}\n`), mode);
    // After the base: a crash in between leaves a slot whose id the base already lists.
    await Promise.all(dead.map((d) => unlink(d.path).catch(() => {})));
    return base;
  } finally {
    await release();
  }
}
