/**
 * Holds a stop or restart back for the lame-duck time (the LameDuck middleware's `seconds`,
 * which each worker reports when it is ready): the workers are told first, so their health
 * endpoint fails while they still accept, and the balancer takes the host out before the
 * master acts. A signal that arrives during the wait does not restart the clock: a stop
 * replaces a pending restart (the host is going anyway), a restart never replaces a stop.
 */
export class LameDuckHold {
  #timer: NodeJS.Timeout | undefined;
  #then: (() => void) | undefined;
  #stopping = false;

  /** A stop or restart is being held back: workers that start now must be told too. */
  get waiting(): boolean {
    return this.#timer !== undefined;
  }

  /** Runs `act` after `ms` (at once when `ms` is 0); `tell` runs when the wait starts. */
  hold(kind: 'stop' | 'restart', ms: number, tell: () => void, act: () => void): void {
    if (this.#timer === undefined) {
      if (ms <= 0) return act();
      tell();
      this.#timer = setTimeout(() => {
        const then = this.#then;
        this.#timer = undefined;
        this.#then = undefined;
        this.#stopping = false;
        then?.();
      }, ms);
    } else if (kind === 'restart' && this.#stopping) {
      return;
    }
    this.#stopping ||= kind === 'stop';
    this.#then = act;
  }
}
