import { dirname, resolve } from 'node:path';
import { check, checkOptions, optionError, PlankError } from '@plank/core';
import { readAll, type ScoreboardSnapshot } from './read.js';
import { HEADER } from './record.js';
import { openSlot, type Slot } from './slot.js';
import { checkDirectory, ensureDirectory, type TrustMode } from './trust.js';

export type { ScoreboardSnapshot, WorkerSlot } from './read.js';

export type ScoreboardOptions = {
  /**
   * The directory of slot files, shared by every worker: owned by this process's user (or
   * root) and writable by no one else; created (0700) at the first write when missing.
   */
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
  /**
   * Trusts a group-writable directory, and creates the directory 0770 and the files 0640, for
   * workers of several users in one group. Others may never write it.
   * @default false
   */
  groupWritable?: boolean;
  /**
   * Only read: no slot, nothing created, folded or removed (dead workers' slots are counted
   * from their files); the directory may belong to another user, as when an operator runs
   * `sudo plank-status`, but must still be writable by no one but its owner.
   * @default false
   */
  readOnly?: boolean;
};

export type Scoreboard = {
  readonly dir: string;
  readonly counterFile: string | undefined;
  /** This process's slot, shared by every caller in the process; its file is created at its first update. */
  slot(): Slot;
  /** Reads every slot, removes (and folds) those of dead processes, and lists the live workers. */
  read(): Promise<ScoreboardSnapshot>;
};

const WHERE = 'scoreboard()';
const CODE = 'PLANK_ERR_SCOREBOARD_OPTION';
const DIR_CODE = 'PLANK_ERR_SCOREBOARD_DIR';
const SCHEMA = {
  dir: check.path,
  counterFile: check.path,
  workersFile: check.path,
  recordSize: check.integer({ min: HEADER + 64, max: 65536 }),
  groupWritable: check.boolean,
  readOnly: check.boolean,
};
/** One slot per directory per process, whoever asks: two writers of one file would interleave. */
const slots = new Map<string, Slot>();

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
  const o = checkOptions(WHERE, CODE, options, SCHEMA);
  if (o.dir === undefined) throw optionError(CODE, WHERE, 'dir', undefined, 'is required (the slot directory)');
  const dir = resolve(o.dir);
  const counterFile = o.counterFile === undefined ? undefined : resolve(o.counterFile);
  const workers = o.workersFile ?? (process.env.PLANK_PREFORK_WORKERS || undefined);
  const workersFile = workers === undefined ? undefined : resolve(workers);
  const { recordSize = 1024 } = o;
  const trust: TrustMode = { groupWritable: o.groupWritable === true, readOnly: o.readOnly === true };
  // Checked now, written later: building an app (`plankup --check`) creates nothing, yet an
  // untrusted or unwritable directory fails start-up here, in one line.
  checkDirectory(DIR_CODE, WHERE, dir, trust);
  if (counterFile) checkDirectory(DIR_CODE, WHERE, dirname(counterFile), trust);
  const fileMode = trust.groupWritable ? 0o640 : 0o600;
  const slotId = Number(process.env.PLANK_WORKER_SLOT);

  return {
    dir,
    counterFile,
    slot() {
      if (trust.readOnly) throw new PlankError(CODE, `${WHERE}: slot() of a scoreboard opened with readOnly`);
      let slot = slots.get(dir);
      if (!slot) {
        const prepare = (): void => ensureDirectory(DIR_CODE, WHERE, dir, trust);
        slot = openSlot(
          { dir, mode: fileMode, prepare },
          recordSize,
          Number.isSafeInteger(slotId) && slotId > 0 ? slotId : 0,
          Math.round(performance.timeOrigin),
        );
        slots.set(dir, slot);
      }
      return slot;
    },
    read: () =>
      readAll({
        where: WHERE,
        code: DIR_CODE,
        dir,
        counterFile,
        workersFile,
        recordSize,
        trust,
        fileMode,
        own: slots.get(dir),
      }),
  };
}
