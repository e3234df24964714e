import { mkdirSync } from 'node:fs';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { optionError, PlankError, show } from '@plank/core';
import { type CounterBase, type DeadSlot, fold, readBase } from './counter.js';
import { decode, HEADER, workerId, type SlotRecord } from './record.js';
import { openSlot, type Slot } from './slot.js';
import { isAlive, readMasterList } from './workers.js';

export type ScoreboardOptions = {
  /** The directory of slot files, shared by every worker; created when missing. */
  dir: string;
  /**
   * Where the counters of workers that are gone are kept, so that totals survive worker
   * restarts. Without it, `totals` is left out and dead slots are simply removed.
   * @default undefined
   */
  counterFile?: string;
  /**
   * The prefork master's worker list (JSON, rewritten atomically), used to list workers
   * that have not written their slot yet.
   * @default process.env.PLANK_PREFORK_WORKERS
   */
  workersFile?: string;
  /**
   * Bytes per slot record, header included (48 bytes): the payload must fit in the rest.
   * @default 1024
   */
  recordSize?: number;
};

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
};

export type ScoreboardSnapshot = {
  /** The prefork master, when its worker list was readable. */
  master: { pid: number; startedAt: number } | undefined;
  /** Live workers, by slot id and then pid. */
  workers: WorkerSlot[];
  /** Everything every worker counted, dead ones included; only with `counterFile`. */
  totals: { requests: number; bytes: number } | undefined;
};

export type Scoreboard = {
  readonly dir: string;
  readonly counterFile: string | undefined;
  /** This process's slot, opened on first use and shared by every caller in the process. */
  slot(): Slot;
  /** Reads every slot, removes (and folds) those of dead processes, and lists the live workers. */
  read(): Promise<ScoreboardSnapshot>;
};

const WHERE = 'scoreboard()';
const KNOWN = new Set(['dir', 'counterFile', 'workersFile', 'recordSize']);
/** One slot per directory per process, whoever asks: two writers of one file would interleave. */
const slots = new Map<string, Slot>();
const TORN_RETRIES = 3;

function checkPath(code: string, option: string, value: unknown, optional: boolean): string | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string' || value === '' || value.includes('\0')) {
    throw optionError(code, WHERE, option, value, 'must be a non-empty path');
  }
  return resolve(value);
}

/**
 * Opens a scoreboard: a directory with one small file per worker process, each written by
 * its worker alone (no locks on the write path), and read by anyone who wants to know what
 * every worker is doing. Parallel::Scoreboard's job, for Node's processes.
 *
 * @example
 * ```ts
 * import { scoreboard } from '@plank/scoreboard';
 * const board = scoreboard({ dir: '/run/myapp/scoreboard', counterFile: '/run/myapp/counter' });
 * board.slot().update('busy: GET /', 0, 0);
 * board.slot().update('idle', 1, 512);
 * const { workers, totals } = await board.read();
 * ```
 */
export function scoreboard(options: ScoreboardOptions): Scoreboard {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new PlankError('PLANK_ERR_SCOREBOARD_OPTIONS', `${WHERE}: expected an options object, got ${show(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key))
      throw new PlankError(
        'PLANK_ERR_SCOREBOARD_OPTIONS',
        `${WHERE}: unknown option ${show(key)} (known: ${[...KNOWN].join(', ')})`,
      );
  }
  const dir = checkPath('PLANK_ERR_SCOREBOARD_DIR', 'dir', options.dir, false) as string;
  const counterFile = checkPath('PLANK_ERR_SCOREBOARD_COUNTER_FILE', 'counterFile', options.counterFile, true);
  const workersFile = checkPath(
    'PLANK_ERR_SCOREBOARD_WORKERS_FILE',
    'workersFile',
    options.workersFile ?? (process.env.PLANK_PREFORK_WORKERS || undefined),
    true,
  );
  const recordSize = options.recordSize ?? 1024;
  if (!Number.isSafeInteger(recordSize) || recordSize < HEADER + 64 || recordSize > 65536) {
    throw optionError(
      'PLANK_ERR_SCOREBOARD_RECORD_SIZE',
      WHERE,
      'recordSize',
      options.recordSize,
      `must be an integer from ${HEADER + 64} to 65536`,
    );
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new PlankError(
      'PLANK_ERR_SCOREBOARD_DIR',
      `${WHERE}: cannot create the directory ${show(dir)}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const slotId = Number(process.env.PLANK_WORKER_SLOT);

  return {
    dir,
    counterFile,
    slot() {
      let slot = slots.get(dir);
      if (!slot) {
        slot = openSlot(
          dir,
          recordSize,
          Number.isSafeInteger(slotId) && slotId > 0 ? slotId : 0,
          Math.round(performance.timeOrigin),
        );
        slots.set(dir, slot);
      }
      return slot;
    },
    read: () => readAll(dir, counterFile, workersFile, recordSize),
  };
}

async function readSlot(path: string, recordSize: number): Promise<SlotRecord | 'torn' | 'gone'> {
  for (let i = 0; i < TORN_RETRIES; i++) {
    let buf: Buffer;
    try {
      buf = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
      throw err;
    }
    const record = decode(buf.length > recordSize ? buf.subarray(0, recordSize) : buf);
    if (record) return record;
  }
  return 'torn';
}

async function readAll(
  dir: string,
  counterFile: string | undefined,
  workersFile: string | undefined,
  recordSize: number,
): Promise<ScoreboardSnapshot> {
  const master = workersFile ? await readMasterList(workersFile) : undefined;
  const names = (await readdir(dir)).filter((n) => /^status_[1-9][0-9]*$/.test(n));
  const live = new Map<number, WorkerSlot>();
  const counted: Array<{ id: string; requests: number; bytes: number }> = [];
  const dead: DeadSlot[] = [];
  await Promise.all(
    names.map(async (name) => {
      const pid = Number(name.slice('status_'.length));
      const path = `${dir}/${name}`;
      const record = await readSlot(path, recordSize);
      if (record === 'gone') return;
      const alive = isAlive(pid) && (record === 'torn' || record.pid === pid);
      if (record === 'torn') {
        // Being rewritten right now by a live worker (list it without details), or
        // half-written by one that died (nothing to fold from it).
        if (alive)
          live.set(pid, {
            pid,
            slot: 0,
            generation: undefined,
            startedAt: undefined,
            payload: undefined,
            requests: 0,
            bytes: 0,
          });
        else await unlink(path).catch(() => {});
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
        });
        counted.push({ id, requests: record.requests, bytes: record.bytes });
      } else {
        dead.push({ path, id, requests: record.requests, bytes: record.bytes });
      }
    }),
  );

  let base: CounterBase | undefined;
  if (counterFile && dead.length > 0) base = await fold(counterFile, dead);
  else if (!counterFile) await Promise.all(dead.map((d) => unlink(d.path).catch(() => {})));
  // Dead slots the lock kept us from folding are still counted, from their files.
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

  for (const w of master?.workers ?? []) {
    const known = live.get(w.pid);
    if (known) {
      known.slot ||= w.slot;
      known.generation = w.generation;
      known.startedAt ??= w.startedAt;
    } else if (isAlive(w.pid)) {
      // Forked but has not written its slot yet: listed, as the Perl module lists it from `ps`.
      live.set(w.pid, {
        pid: w.pid,
        slot: w.slot,
        generation: w.generation,
        startedAt: w.startedAt,
        payload: undefined,
        requests: 0,
        bytes: 0,
      });
    }
  }
  // Without a master the reader's own process is a worker too, once it has a slot.
  const own = slots.get(dir);
  if (own && !live.has(own.pid)) {
    live.set(own.pid, {
      pid: own.pid,
      slot: 0,
      generation: undefined,
      startedAt: undefined,
      payload: undefined,
      requests: own.requests,
      bytes: own.bytes,
    });
  }
  const workers = [...live.values()].sort((a, b) => (a.slot || Infinity) - (b.slot || Infinity) || a.pid - b.pid);
  return { master: master ? { pid: master.master, startedAt: master.startedAt } : undefined, workers, totals };
}
