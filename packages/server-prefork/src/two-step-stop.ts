import { send, type Worker } from './child.js';

/** How long a stop waits for its workers to close their listeners before it drains them anyway. */
const CLOSE_PHASE_MS = 2_000;

/**
 * Workers that leave together (TERM, INT, `close()`, USR1) go in two steps: each closes its
 * listeners first, still answering with keep-alive, and only when all have (or after
 * CLOSE_PHASE_MS) is each told to drain. A `Connection: close` sent earlier would send its client
 * to reconnect while another worker still listens, and that worker could close with the new
 * connection still in its queue: a reset, not a refusal.
 */
export class TwoStepStop {
  readonly #closing = new Set<Worker>();
  readonly #held = new Set<Worker>();
  readonly #drain: (w: Worker) => void;
  #timer: NodeJS.Timeout | undefined;

  /** `drain` tells a worker to stop (its `stop` message). */
  constructor(drain: (w: Worker) => void) {
    this.#drain = drain;
  }

  /** Asks `w` to close its listeners; it is drained once every worker asked so far has. */
  hold(w: Worker): void {
    this.#held.add(w);
    this.#closing.add(w);
    send(w, { type: 'close-listeners' });
    this.#timer ??= setTimeout(() => this.#release(), CLOSE_PHASE_MS);
  }

  /** `w` said `listeners-closed`. */
  closed(w: Worker): void {
    if (this.#closing.delete(w) && this.#closing.size === 0) this.#release();
  }

  /** `w` exited: nothing to drain, and nothing to wait for. */
  gone(w: Worker): void {
    this.#held.delete(w);
    this.closed(w);
  }

  #release(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#closing.clear();
    for (const w of this.#held) this.#drain(w);
    this.#held.clear();
  }
}
