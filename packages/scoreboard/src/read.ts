// Reading the scoreboard: every slot, then the counter base, then the master's list. The
// entries of the directory are not trusted (see safe-fs.ts): what is not a regular file of
// ours is skipped, and no file is read past the record size.
import { readdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type CounterBase, type DeadSlot, fold, readBase } from './counter.js';
import { decode, type SlotRecord, workerId } from './record.js';
import { readRegular } from './safe-fs.js';
import type { Slot } from './slot.js';
import { checkDirectory, ensureDirectory, type TrustMode } from './trust.js';
import { isAlive, type MasterWorker, type PoolStatus, readMasterList } from './workers.js';

/** One worker in a snapshot: from its slot, from the master's list, or both. */
export type WorkerSlot = {
  pid: number;
  /** The master's slot id; 0 when the worker runs without a prefork master. */
  slot: number;
  /** The master's generation (bumped by each HUP), when the master lists it. */
  generation: number | undefined;
  startedAt: number | undefined;
  /** The status text the worker wrote last; undefined when it has no readable slot yet. */
  payload: string | undefined;
  requests: number;
  bytes: number;
  /**
   * Where the worker is in its life, from the prefork master's list (undefined without one):
   * `retiring` when the master has started a newer generation (a HUP: the worker finishes what
   * it serves and goes), `starting` while it has no slot yet (loading the app, or ready without
   * a first request), else `ready`.
   */
  state: 'starting' | 'ready' | 'retiring' | undefined;
  /** Its event loop's utilisation over the last second, 0–1, when the prefork master reports it. */
  load?: number;
  /** Requests it was answering then. */
  inFlight?: number;
};

export type ScoreboardSnapshot = {
  /** The prefork master, when its worker list was readable. */
  master: { pid: number; startedAt: number; pool?: PoolStatus } | undefined;
  /** Live workers, by slot id and then pid. */
  workers: WorkerSlot[];
  /** Everything every worker counted, dead ones included; only with `counterFile`. */
  totals: { requests: number; bytes: number } | undefined;
};

/** What a read needs to know about its scoreboard. */
export type ReadPlace = {
  where: string;
  code: string;
  dir: string;
  counterFile: string | undefined;
  workersFile: string | undefined;
  recordSize: number;
  trust: TrustMode;
  fileMode: number;
  /** This process's slot, when it has asked for one. */
  own: Slot | undefined;
};

const TORN_RETRIES = 3;
const SLOT_NAME = /^status_[1-9][0-9]*$/;

async function readSlot(path: string, recordSize: number): Promise<SlotRecord | 'torn' | 'gone' | 'skipped'> {
  for (let i = 0; i < TORN_RETRIES; i++) {
    const buf = await readRegular(path, recordSize);
    if (buf === 'missing') return 'gone';
    if (buf === 'skipped') return 'skipped';
    const record = decode(buf);
    if (record) return record;
  }
  return 'torn';
}

/** The slot files in `dir`; none when it has not been created yet (no worker has written). */
async function slotNames(p: ReadPlace): Promise<string[]> {
  // Refuses a directory that changed hands since start-up, before reading anything in it.
  checkDirectory(p.code, p.where, p.dir, p.trust);
  try {
    return (await readdir(p.dir)).filter((n) => SLOT_NAME.test(n));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

const blank = (pid: number): WorkerSlot => ({
  pid,
  slot: 0,
  generation: undefined,
  startedAt: undefined,
  payload: undefined,
  requests: 0,
  bytes: 0,
  state: undefined,
});

export async function readAll(p: ReadPlace): Promise<ScoreboardSnapshot> {
  const { dir, counterFile, recordSize } = p;
  const master = p.workersFile ? await readMasterList(p.workersFile) : undefined;
  const names = await slotNames(p);
  const live = new Map<number, WorkerSlot>();
  const counted: Array<{ id: string; requests: number; bytes: number }> = [];
  const dead: DeadSlot[] = [];
  await Promise.all(
    names.map(async (name) => {
      const pid = Number(name.slice('status_'.length));
      const path = `${dir}/${name}`;
      const record = await readSlot(path, recordSize);
      // Not a slot of ours (a symlink, a FIFO, a device): never read, never removed.
      if (record === 'gone' || record === 'skipped') return;
      const alive = isAlive(pid) && (record === 'torn' || record.pid === pid);
      if (record === 'torn') {
        // Being rewritten right now by a live worker (list it without details), or
        // half-written by one that died (nothing to fold from it).
        if (alive) live.set(pid, blank(pid));
        else if (!p.trust.readOnly) await unlink(path).catch(() => {});
        return;
      }
      const id = workerId(record);
      if (alive) {
        live.set(pid, {
          pid,
          slot: record.slot,
          generation: undefined,
          startedAt: record.startedAt,
          payload: record.payload,
          requests: record.requests,
          bytes: record.bytes,
          state: undefined,
        });
        counted.push({ id, requests: record.requests, bytes: record.bytes });
      } else {
        dead.push({ path, id, requests: record.requests, bytes: record.bytes });
      }
    }),
  );

  let base: CounterBase | undefined;
  // A read-only reader leaves dead slots to the server's next read, which folds and removes them.
  if (!p.trust.readOnly && counterFile && dead.length > 0) {
    ensureDirectory(p.code, p.where, dirname(counterFile), p.trust);
    base = await fold(counterFile, dead, p.fileMode);
  } else if (!p.trust.readOnly && !counterFile) await Promise.all(dead.map((d) => unlink(d.path).catch(() => {})));
  // Dead slots the lock (or readOnly) kept us from folding are still counted, from their files.
  if (counterFile && !base) counted.push(...dead);
  let totals: ScoreboardSnapshot['totals'];
  if (counterFile) {
    // Read after the slots: a slot folded in between is listed in `folded` and skipped.
    base = await readBase(counterFile);
    const folded = new Set(base.folded);
    totals = { requests: base.requests, bytes: base.bytes };
    for (const c of counted) {
      if (folded.has(c.id)) continue;
      totals.requests += c.requests;
      totals.bytes += c.bytes;
    }
  }

  // After a HUP the master lists two generations; the older one is on its way out.
  const newest = Math.max(0, ...(master?.workers ?? []).map((w) => w.generation));
  // A worker the master retires (a smaller pool, TTOU, its request limit) says so itself.
  const leaving = (w: MasterWorker): boolean => w.generation < newest || w.state === 'retiring';
  for (const w of master?.workers ?? []) {
    const known = live.get(w.pid);
    const load = {
      ...(w.load === undefined ? {} : { load: w.load }),
      ...(w.inFlight === undefined ? {} : { inFlight: w.inFlight }),
    };
    if (known) {
      known.slot ||= w.slot;
      known.generation = w.generation;
      known.startedAt ??= w.startedAt;
      known.state = leaving(w) ? 'retiring' : known.payload === undefined ? 'starting' : 'ready';
      Object.assign(known, load);
    } else if (isAlive(w.pid)) {
      // Forked but has not written its slot yet: listed, as the Perl module lists it from `ps`.
      const state = leaving(w) ? 'retiring' : 'starting';
      live.set(w.pid, {
        ...blank(w.pid),
        slot: w.slot,
        generation: w.generation,
        startedAt: w.startedAt,
        state,
        ...load,
      });
    }
  }
  // Without a master the reader's own process is a worker too, once it has a slot.
  const own = p.own;
  if (own && !live.has(own.pid)) live.set(own.pid, { ...blank(own.pid), requests: own.requests, bytes: own.bytes });
  const workers = [...live.values()].sort((a, b) => (a.slot || Infinity) - (b.slot || Infinity) || a.pid - b.pid);
  const about = master
    ? { pid: master.master, startedAt: master.startedAt, ...(master.pool ? { pool: master.pool } : {}) }
    : undefined;
  return { master: about, workers, totals };
}
