import type { ChildProcess } from 'node:child_process';
import { PlankError, sdNotify } from '@plank/core';
import { writeMasterList } from '@plank/scoreboard';
import { backoffDelay, firstLine } from './backoff.js';
import { armKill, armStartup, configFor, disarm, forkWorker, send, type Worker } from './child.js';
import { LameDuckHold } from './lame-duck.js';
import { releaseListeners, type Listener } from './listen.js';
import { TwoStepStop } from './two-step-stop.js';
import { LOAD_INTERVAL_MS } from './load.js';
import { PoolTracker } from './pool-tracker.js';
import type { Settings } from './options.js';
import type { ToMaster, ToWorker, WorkerInfo } from './protocol.js';

/** A worker that exits sooner than this after it was ready counts as a crash-loop failure. */
export const STABLE_MS = 5_000;
/** Live workers (starting, ready and leaving together) never exceed this many times the pool. */
export const MAX_LIVE_FACTOR = 2;

type Mode = 'running' | 'slow-stop' | 'stopping' | 'done';

/** The process manager: keeps `desired` workers of the current generation alive on the master's sockets. */
export class Master {
  readonly #s: Settings;
  readonly #listeners: Listener[];
  readonly #startTries: number;
  readonly #workers = new Map<ChildProcess, Worker>();
  #generation = 1;
  #desired: number;
  #mode: Mode = 'running';
  #exitCode = 0;
  #streak = 0;
  #everReady = false;
  #nextSpawnAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = 0;
  #slowTimer: NodeJS.Timeout | undefined;
  readonly #twoStep = new TwoStepStop((w) => this.#send(w, { type: 'stop', timeout: this.#stopTimeout }));
  #stopTimeout: number;
  #onReady: { resolve: () => void; reject: (err: Error) => void } | undefined;
  #onDone: (code: number) => void;

  /** Settles with the first worker ready, or rejects when none can start. */
  readonly started: Promise<void>;
  /** Settles with the exit code once every worker is gone after a stop. */
  readonly closed: Promise<number>;

  readonly #workersFile: string;
  readonly #startedAt = Date.now();
  readonly #hold = new LameDuckHold();
  /** The longest lame-duck time a worker asked for (LameDuck middleware), in ms. */
  #lameDuckMs = 0;
  /** A HUP's generation is not all ready yet (systemd hears READY=1 when it is). */
  #reloading = false;
  readonly #tracker: PoolTracker;
  #tick: NodeJS.Timeout | undefined;

  constructor(s: Settings, listeners: Listener[], startTries: number, workersFile: string) {
    this.#s = s;
    this.#workersFile = workersFile;
    this.#listeners = listeners;
    this.#startTries = startTries;
    this.#desired = s.workers;
    this.#tracker = new PoolTracker(s.pool);
    this.#stopTimeout = s.gracefulTimeout;
    this.started = new Promise<void>((resolve, reject) => {
      this.#onReady = { resolve, reject };
    });
    let done!: (code: number) => void;
    this.closed = new Promise<number>((resolve) => {
      done = resolve;
    });
    this.#onDone = done;
    // Callers that only watch `closed` must not see an unhandled rejection.
    this.started.catch(() => {});
  }

  /** The live workers, oldest first. */
  workers(): WorkerInfo[] {
    return [...this.#workers.values()].map((w) => ({ ...w.info }));
  }

  start(): void {
    this.#writeList();
    this.#reconcile();
    this.#tick = setInterval(() => this.#poolTick(), LOAD_INTERVAL_MS);
    this.#tick.unref();
  }

  /** Once a second: the pool's history, and with an adaptive pool its policy's decision. */
  #poolTick(): void {
    if (this.#mode !== 'running') return;
    const active = [...this.#workers.values()].filter((w) => !w.leaving);
    // During a restart the old generation's workers still serve and the new one's are
    // starting: the policy waits until the swap is over, so it never sizes two pools at once.
    const swapping = active.some((w) => w.info.generation !== this.#generation);
    const d = this.#tracker.tick(Date.now(), this.#desired, active, !swapping);
    if (d.spawn > 0) {
      this.#s.log(
        `prefork: pool spare capacity ${d.spare.toFixed(3)} < ${this.#s.pool?.minSpare}: starting ${d.spawn} more`,
      );
      this.#desired += d.spawn;
    }
    const victim = active.find((w) => w.info.pid === d.retire);
    if (victim) {
      this.#desired--;
      this.#retire(
        victim,
        `pool spare capacity ${d.spare.toFixed(3)} above ${this.#s.pool?.maxSpare} for ${(this.#s.pool?.idleTime ?? 0) / 1000} s`,
      );
    }
    this.#writeList();
    if (d.spawn > 0 || victim) this.#reconcile();
  }

  /**
   * Before a stop or restart: every worker enters lame duck (its LameDuck health endpoint
   * fails) and `act` runs after the longest time a worker asked for; at once when none did.
   */
  lameDuck(kind: 'stop' | 'restart', act: () => void): void {
    if (this.#mode !== 'running') return act();
    const tell = (): void => {
      this.#s.log(`prefork: lame duck for ${this.#lameDuckMs / 1000} s before the ${kind}`);
      for (const w of this.#workers.values()) if (w.greeted) this.#send(w, { type: 'lame-duck' });
    };
    this.#hold.hold(kind, this.#lameDuckMs, tell, act);
  }

  #readyOf(generation: number): number {
    return [...this.#workers.values()].filter((w) => w.info.generation === generation && w.readyAt !== undefined)
      .length;
  }

  /** HUP: a new generation replaces every worker; old ones leave as new ones are ready. */
  restart(): void {
    if (this.#mode !== 'running') return;
    this.#generation++;
    this.#reloading = true;
    // HUPs coalesce: a worker of an earlier generation that is still starting has served
    // nobody, so the newer generation replaces it now instead of after it is ready. Its ready
    // siblings keep serving until the new generation is ready, like every old worker.
    for (const w of this.#workers.values())
      if (w.readyAt === undefined && w.info.generation < this.#generation)
        this.#retire(w, 'replaced by a newer restart');
    this.#s.log(
      `prefork: restarting workers (generation ${this.#generation})${this.#s.spawnInterval > 0 ? `, one every ${this.#s.spawnInterval / 1000} s` : ''}`,
    );
    this.#reconcile();
  }

  /** TTIN/TTOU. */
  resize(delta: number): void {
    if (this.#mode !== 'running') return;
    const pool = this.#s.pool;
    if (pool) {
      // An adaptive pool: TTIN/TTOU move its floor, never its maximum.
      const floor = pool.floor;
      pool.floor = Math.min(pool.max, Math.max(1, floor + delta));
      const before = this.#desired;
      this.#desired = Math.min(pool.max, Math.max(pool.floor, this.#desired + delta));
      this.#s.log(
        `prefork: pool floor ${floor} -> ${pool.floor} (maximum ${pool.max}); workers ${before} -> ${this.#desired}`,
      );
      this.#reconcile();
      return;
    }
    const before = this.#desired;
    this.#desired = Math.max(1, this.#desired + delta);
    this.#s.log(`prefork: workers ${before} -> ${this.#desired}`);
    this.#reconcile();
  }

  /** USR1, Starlet's slow graceful stop: workers leave one per spawn interval, then the master exits 0. */
  slowStop(): void {
    if (this.#mode !== 'running') return;
    this.#mode = 'slow-stop';
    this.#clearTimer();
    clearInterval(this.#tick);
    this.#stopAccepting();
    this.#s.log(
      `prefork: stopping workers ${this.#s.spawnInterval > 0 ? `one every ${this.#s.spawnInterval / 1000} s` : 'now'}`,
    );
    const next = (): void => {
      this.#slowTimer = undefined;
      if (this.#mode !== 'slow-stop') return;
      const stayers = [...this.#workers.values()].filter((w) => !w.leaving);
      const batch = this.#s.spawnInterval > 0 ? stayers.slice(0, 1) : stayers;
      this.#retireTogether(batch, 'stop (USR1)', this.#s.gracefulTimeout);
      if (stayers.length > batch.length) this.#slowTimer = setTimeout(next, this.#s.spawnInterval);
      this.#finishIfEmpty();
    };
    next();
  }

  /** TERM/INT or close(): every worker finishes its requests and exits; killed after `timeout`. */
  stop(timeout: number = this.#s.gracefulTimeout): void {
    if (this.#mode === 'stopping' || this.#mode === 'done') return;
    this.#mode = 'stopping';
    this.#stopTimeout = timeout;
    this.#clearTimer();
    clearInterval(this.#tick);
    this.#stopAccepting();
    if (this.#slowTimer) clearTimeout(this.#slowTimer);
    for (const w of this.#workers.values()) if (w.leaving) this.#armKill(w, timeout);
    this.#retireTogether(
      [...this.#workers.values()].filter((w) => !w.leaving),
      'stop',
      timeout,
    );
    this.#finishIfEmpty();
  }

  /**
   * A stop closes the master's copy of every listening socket at once: each worker closes its
   * own as it is told to go, so once the last one has, the kernel refuses new connections
   * instead of completing handshakes into a queue no process will read (those were reset when
   * the master exited). Under Server::Starter, start_server and the new generation keep the
   * socket open, so nothing is refused there.
   */
  #stopAccepting(): void {
    releaseListeners(this.#listeners);
  }

  #reconcile(): void {
    if (this.#mode !== 'running') return;
    const active = [...this.#workers.values()].filter((w) => !w.leaving);
    const current = active.filter((w) => w.info.generation === this.#generation);
    const old = active.filter((w) => w.info.generation !== this.#generation);

    // TTOU: the newest go first (they have done the least work).
    for (let extra = current.length - this.#desired; extra > 0; extra--)
      this.#retire(current.pop() as Worker, 'fewer workers (TTOU)');

    // Old workers give way one for one as new ones become ready, so capacity never drops.
    const ready = current.filter((w) => w.readyAt !== undefined).length;
    old.sort(
      (a, b) =>
        Number(a.readyAt !== undefined) - Number(b.readyAt !== undefined) || a.info.startedAt - b.info.startedAt,
    );
    for (let surplus = old.length - Math.max(0, this.#desired - ready); surplus > 0; surplus--)
      this.#retire(old.shift() as Worker, 'restart');

    for (let missing = this.#desired - current.length; missing > 0; missing--) {
      // The bound on live processes, whatever the signal rate: leaving workers count until
      // they have exited (each exit reconciles again), so a HUP storm or a restart while old
      // workers drain waits for room instead of stacking generations.
      if (this.#workers.size >= MAX_LIVE_FACTOR * this.#desired) break;
      const wait = this.#nextSpawnAt - Date.now();
      if (wait > 0) {
        this.#schedule(wait);
        break;
      }
      this.#spawn();
      if (this.#s.spawnInterval > 0) {
        this.#nextSpawnAt = Date.now() + this.#s.spawnInterval;
        if (missing > 1) this.#schedule(this.#s.spawnInterval);
        break;
      }
    }
  }

  #schedule(ms: number): void {
    const at = Date.now() + ms;
    if (this.#timer && this.#timerAt <= at) return;
    this.#clearTimer();
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#reconcile();
    }, ms);
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #freeSlot(): number {
    const used = new Set([...this.#workers.values()].map((w) => w.info.slot));
    let slot = 1;
    while (used.has(slot)) slot++;
    return slot;
  }

  #spawn(): void {
    const w = forkWorker(this.#s, this.#listeners, this.#workersFile, {
      slot: this.#freeSlot(),
      generation: this.#generation,
    });
    const { child } = w;
    this.#workers.set(child, w);
    this.#tracker.spawned(w.info.pid);
    armStartup(w, this.#s.startupTimeout);
    child.on('message', (m: ToMaster) => this.#message(w, m));
    child.on('error', (err) => {
      // Spawning failed (no exit event follows when there is no process).
      w.error ??= err.stack ?? err.message;
      if (child.pid === undefined) this.#exited(w, null, null);
    });
    child.on('exit', (code, signal) => this.#exited(w, code, signal));
    this.#broadcast();
  }

  #send(w: Worker, message: ToWorker): void {
    send(w, message);
  }

  #broadcast(): void {
    const list = this.workers();
    for (const w of this.#workers.values()) if (w.greeted) this.#send(w, { type: 'workers', workers: list });
    this.#writeList();
  }

  /** The list for readers in other processes (the scoreboard): replaced whole, never seen half-written. */
  #writeList(): void {
    try {
      writeMasterList(this.#workersFile, {
        master: process.pid,
        startedAt: this.#startedAt,
        workers: [...this.#workers.values()].map((w) => ({ ...w.info, ...w.load })),
        pool: this.#tracker.status(),
      });
    } catch (err) {
      this.#s.errors.write(`prefork: cannot write the worker list ${this.#workersFile}: ${(err as Error).message}\n`);
    }
  }

  #message(w: Worker, m: ToMaster): void {
    const s = this.#s;
    switch (m.type) {
      case 'hello': {
        w.greeted = true;
        // Replaced or stopped before it said hello: it has nothing to load and nothing to drain.
        if (w.leaving) return this.#send(w, { type: 'stop', timeout: this.#stopTimeout });
        this.#send(w, { type: 'start', config: configFor(w, s, this.#listeners, this.workers()) });
        // A replacement forked during the lame-duck time is as lame as its siblings.
        if (this.#hold.waiting) this.#send(w, { type: 'lame-duck' });
        return;
      }
      case 'ready': {
        w.readyAt = Date.now();
        if (w.startTimer) clearTimeout(w.startTimer);
        this.#lameDuckMs = Math.max(this.#lameDuckMs, (m.lameDuck ?? 0) * 1000);
        if (this.#reloading && this.#readyOf(this.#generation) >= this.#desired) {
          this.#reloading = false;
          void sdNotify(['READY=1', `STATUS=generation ${this.#generation} ready`], s.env, s.errors);
        }
        if (!w.leaving) w.info.state = 'ready';
        this.#everReady = true;
        s.log(`prefork: worker ${w.info.pid} ready (slot ${w.info.slot}, generation ${w.info.generation})`);
        this.#onReady?.resolve();
        if (this.#streak > 0) {
          setTimeout(() => {
            if (this.#workers.has(w.child) && this.#streak > 0) {
              s.log(
                `prefork: worker ${w.info.pid} has run for ${STABLE_MS / 1000} s; the failure streak of ${this.#streak} is over`,
              );
              this.#streak = 0;
              this.#nextSpawnAt = 0;
            }
          }, STABLE_MS).unref();
        }
        this.#broadcast();
        this.#reconcile();
        return;
      }
      case 'failed':
        w.error = m.error;
        w.message = m.message;
        w.fatal = m.fatal === true;
        return;
      case 'load':
        w.load = { load: m.load, inFlight: m.inFlight, requests: m.requests };
        return;
      case 'listeners-closed':
        this.#twoStep.closed(w);
        return;
      case 'retiring':
        if (w.leaving) return;
        w.leaving = true;
        w.info.state = 'retiring';
        s.log(`prefork: worker ${w.info.pid} retiring after ${m.reason} (slot ${w.info.slot})`);
        this.#armKill(w, s.gracefulTimeout);
        this.#broadcast();
        this.#reconcile();
        return;
    }
  }

  #retire(w: Worker, why: string, timeout: number = this.#s.gracefulTimeout): void {
    if (w.leaving) return;
    this.#tracker.retired(w.info.pid, why);
    w.leaving = true;
    w.info.state = 'retiring';
    this.#s.log(
      `prefork: stopping worker ${w.info.pid} (slot ${w.info.slot}, generation ${w.info.generation}): ${why}`,
    );
    // One still booting has run no app code and never listened: TERM ends it at once (a HUP
    // storm replaces generations faster than they boot).
    if (w.greeted) this.#send(w, { type: 'stop', timeout });
    else w.child.kill('SIGTERM');
    this.#armKill(w, timeout);
    this.#broadcast();
  }

  /** Stops several workers at once, listeners first (see TwoStepStop). */
  #retireTogether(batch: Worker[], why: string, timeout: number): void {
    for (const w of batch) {
      if (w.leaving) continue;
      w.leaving = true;
      w.info.state = 'retiring';
      this.#s.log(
        `prefork: stopping worker ${w.info.pid} (slot ${w.info.slot}, generation ${w.info.generation}): ${why}`,
      );
      // One still booting holds copies of the sockets (which keep them open) until it goes.
      if (w.greeted) this.#twoStep.hold(w);
      else w.child.kill('SIGTERM');
      this.#armKill(w, timeout);
    }
    this.#broadcast();
  }

  #armKill(w: Worker, timeout: number): void {
    armKill(w, timeout, this.#s.log);
  }

  #exited(w: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.#workers.delete(w.child)) return;
    disarm(w);
    this.#twoStep.gone(w);
    const s = this.#s;
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    const id = `worker ${w.info.pid || '(not spawned)'} (slot ${w.info.slot}, generation ${w.info.generation})`;
    if (w.leaving || this.#mode !== 'running') {
      s.log(`prefork: ${id} exited (${how})`);
    } else if (w.readyAt === undefined || Date.now() - w.readyAt < STABLE_MS) {
      this.#streak++;
      const delay = backoffDelay(this.#streak);
      const what =
        w.readyAt === undefined
          ? 'failed to start'
          : `died ${((Date.now() - w.readyAt) / 1000).toFixed(1)} s after it started`;
      // The cause once per streak; after that one line per failure, so the log shows the backoff.
      if (this.#streak === 1)
        s.errors.write(
          `prefork: ${id} ${what} (${how}):\n${w.error ?? '(no error reported; see the worker output above)'}\n`,
        );
      if (!this.#everReady && (w.fatal || this.#streak >= this.#startTries)) {
        const cause = w.message ?? (w.error === undefined ? how : firstLine(w.error));
        const err = new PlankError(
          'PLANK_ERR_PREFORK_START',
          `prefork: no worker could start (${this.#streak} ${this.#streak === 1 ? 'try' : 'tries'}): ${cause}`,
        );
        // The worker's stack is the one that says where the app failed (plankup --debug prints it).
        if (w.error !== undefined)
          err.stack = `${err.name}: ${err.message}
worker ${w.info.pid}: ${w.error}`;
        this.#fail(err);
        return;
      }
      s.log(
        `prefork: ${id} ${what} (${how}); failure ${this.#streak} in a row, next worker in ${(delay / 1000).toFixed(1)} s`,
      );
      this.#nextSpawnAt = Math.max(this.#nextSpawnAt, Date.now() + delay);
    } else {
      s.log(`prefork: ${id} died (${how}); replacing it${w.error ? `: ${firstLine(w.error)}` : ''}`);
    }
    this.#broadcast();
    this.#reconcile();
    this.#finishIfEmpty();
  }

  /** Start-up failed for good: `started` rejects with `err` (the caller prints it), then everything stops. */
  #fail(err: Error): void {
    this.#exitCode = 1;
    this.#onReady?.reject(err);
    this.stop();
  }

  #finishIfEmpty(): void {
    if ((this.#mode !== 'stopping' && this.#mode !== 'slow-stop') || this.#workers.size > 0) return;
    this.#mode = 'done';
    if (this.#slowTimer) clearTimeout(this.#slowTimer);
    this.#onReady?.reject(new PlankError('PLANK_ERR_PREFORK_START', 'prefork: stopped before any worker was ready'));
    this.#onDone(this.#exitCode);
  }
}
