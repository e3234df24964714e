// The adaptive pool's policy: a pure function of the workers' observed load and the time, with
// no processes, timers or I/O, so every rule of it is tested directly (pool.test.ts). The
// master asks it once a second, as Apache's prefork MPM runs its idle-server maintenance.

/** The pool's bounds, as the master holds them (TTIN/TTOU move `floor`). */
export type PoolPolicy = {
  /** Workers the pool never shrinks below (the start count; Passenger's PassengerMinInstances). */
  floor: number;
  /** Workers that accept connections never exceed this (Apache's MaxRequestWorkers, Passenger's PassengerMaxPoolSize). */
  max: number;
  /** Spawn while the pool's spare capacity is below this, in workers (Apache's MinSpareServers). */
  minSpare: number;
  /** Retire workers while spare capacity stays above this for `idleTime` (Apache's MaxSpareServers). */
  maxSpare: number;
  /** How long spare capacity must stay above `maxSpare` before a worker retires, ms (PassengerPoolIdleTime). */
  idleTime: number;
  /** The ramp's cap: 1, 2, 4, … workers per second while short, at most this many (Apache's MAX_SPAWN_RATE, 32). */
  maxSpawnRate: number;
};

/** One worker of the current pool as the master sees it (retiring workers are not in the pool). */
export type PoolWorker = {
  pid: number;
  /** Still loading the app: it counts as one whole worker of spare capacity, so a spawn is never repeated while it loads. */
  starting: boolean;
  /** Event-loop utilisation over the last second, 0–1; undefined before its first report. */
  load: number | undefined;
  /** Requests it is answering now. */
  inFlight: number;
};

/** What to do this second. */
export type PoolDecision = {
  /** How many workers to start now. */
  spawn: number;
  /** The pid of the worker to retire now, if any (one per second, as Apache retires). */
  retire: number | undefined;
  /** The pool's spare capacity as measured, in workers. */
  spare: number;
};

/**
 * A worker's spare capacity: the part of the last second its event loop was free. An event
 * loop waiting on hundreds of timers or sockets is nearly idle (measured: 300 requests in flight
 * on 1 s timers, utilisation 0.02–0.06), while one running a few milliseconds of synchronous
 * work per request is saturated even at one client (0.93–0.99), so requests in flight are no
 * measure of load for an event-loop server; its utilisation is. Not yet reported: a whole worker.
 */
export function spareOf(w: PoolWorker): number {
  if (w.starting || w.load === undefined) return 1;
  return Math.min(1, Math.max(0, 1 - w.load));
}

/** The policy's memory between two ticks: the ramp and how long capacity has been in surplus. */
export class Pool {
  policy: PoolPolicy;
  #rate = 1;
  #surplusSince: number | undefined;

  constructor(policy: PoolPolicy) {
    this.policy = policy;
  }

  /**
   * One maintenance tick. `size` is the pool the master keeps now (workers present plus those it
   * has still to start, which count as whole spare workers, like starting ones); the master adds
   * `spawn` to it and retires `retire`.
   */
  tick(now: number, size: number, workers: readonly PoolWorker[]): PoolDecision {
    const p = this.policy;
    const spare = workers.reduce((sum, w) => sum + spareOf(w), 0) + Math.max(0, size - workers.length);
    if (spare < p.minSpare && size < p.max) {
      this.#surplusSince = undefined;
      const spawn = Math.min(this.#rate, p.max - size);
      // Apache doubles the rate each second the shortage lasts, and drops back to 1 once it is over.
      this.#rate = Math.min(this.#rate * 2, p.maxSpawnRate);
      return { spawn, retire: undefined, spare };
    }
    // Short but for the workers still loading or not yet measured (a worker reports its first
    // second a second after it is ready): an Apache child starts in milliseconds, a Node worker
    // in about a second, so waiting for them must not count as the shortage being over (the ramp
    // would never get past 1). The rate is kept, not doubled, until they have reported.
    const loading =
      workers.filter((w) => w.starting || w.load === undefined).length + Math.max(0, size - workers.length);
    if (loading > 0 && spare - loading < p.minSpare) {
      this.#surplusSince = undefined;
      return { spawn: 0, retire: undefined, spare };
    }
    this.#rate = 1;
    if (spare <= p.maxSpare || size <= p.floor) {
      this.#surplusSince = undefined;
      return { spawn: 0, retire: undefined, spare };
    }
    this.#surplusSince ??= now;
    if (now - this.#surplusSince < p.idleTime) return { spawn: 0, retire: undefined, spare };
    // The least loaded ready worker goes (its requests drain); among equals, the newest.
    const ready = workers.filter((w) => !w.starting);
    if (ready.length === 0) return { spawn: 0, retire: undefined, spare };
    const victim = ready.reduce((best, w) =>
      spareOf(w) > spareOf(best) || (spareOf(w) === spareOf(best) && w.inFlight <= best.inFlight) ? w : best,
    );
    return { spawn: 0, retire: victim.pid, spare };
  }
}
