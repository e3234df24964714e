// The master's side of the pool: turns its workers into the policy's input once a second, and
// keeps what the workers file shows about the pool (the last minutes, the last events).
import type { PoolEvent, PoolSample, PoolStatus } from '@plank/scoreboard';
import type { Worker } from './child.js';
import { Pool, type PoolDecision, type PoolPolicy, type PoolWorker } from './pool.js';

/** Seconds of history kept (five minutes at one sample a second, about 12 KB of JSON). */
export const HISTORY = 300;
/** Spawn and retire events kept. */
export const EVENTS = 30;

export class PoolTracker {
  readonly #pool: Pool | undefined;
  readonly #history: PoolSample[] = [];
  readonly #events: PoolEvent[] = [];
  /** Each worker's finished requests at the last tick, to turn counters into a rate. */
  #seen = new Map<number, number>();
  #spare: number | undefined;
  /** Spawns the policy asked for that the master has not made yet; they are named as growth. */
  #growing = 0;

  constructor(policy: PoolPolicy | undefined) {
    this.#pool = policy ? new Pool(policy) : undefined;
  }

  /** Records this second, and asks the policy (when there is one and `decide`) what to do. */
  tick(now: number, size: number, active: readonly Worker[], decide: boolean): PoolDecision {
    const ready = active.filter((w) => w.readyAt !== undefined);
    const seen = new Map<number, number>();
    let rps = 0;
    for (const w of active) {
      if (!w.load) continue;
      seen.set(w.info.pid, w.load.requests);
      rps += Math.max(0, w.load.requests - (this.#seen.get(w.info.pid) ?? 0));
    }
    this.#seen = seen;
    const busy = ready.reduce((sum, w) => sum + (w.load?.load ?? 0), 0);
    this.#history.push({ at: now, workers: ready.length, busy: Math.round(busy * 100) / 100, rps });
    if (this.#history.length > HISTORY) this.#history.shift();
    if (!this.#pool || !decide) return { spawn: 0, retire: undefined, spare: this.#spare ?? 0 };
    const workers: PoolWorker[] = active.map((w) => ({
      pid: w.info.pid,
      starting: w.readyAt === undefined,
      load: w.load?.load,
      inFlight: w.load?.inFlight ?? 0,
    }));
    const d = this.#pool.tick(now, size, workers);
    this.#spare = Math.round(d.spare * 100) / 100;
    this.#growing += d.spawn;
    return d;
  }

  spawned(pid: number): void {
    const why = this.#growing > 0 ? 'spare capacity below minSpare' : 'keeping the pool size';
    if (this.#growing > 0) this.#growing--;
    this.#event({ at: Date.now(), event: 'spawn', pid, why });
  }

  retired(pid: number, why: string): void {
    this.#event({ at: Date.now(), event: 'retire', pid, why });
  }

  #event(e: PoolEvent): void {
    this.#events.push(e);
    if (this.#events.length > EVENTS) this.#events.shift();
  }

  status(): PoolStatus {
    const policy = this.#pool?.policy;
    return {
      ...(policy ? { policy: { ...policy } } : {}),
      ...(this.#spare === undefined ? {} : { spare: this.#spare }),
      history: this.#history,
      events: this.#events,
    };
  }
}
