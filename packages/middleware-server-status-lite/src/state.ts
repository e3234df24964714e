// What a worker writes to its slot. The payload is the status character followed by a JSON
// array of the request's fields (remote_addr, host, method, uri, protocol, start time in ms).
import type { Env } from '@plank/core';
import type { Slot } from '@plank/scoreboard';

/** The fields of one request, as the Perl module keeps them (byte strings, `time` in ms). */
export type RequestFields = {
  remote_addr: string;
  host: string;
  method: string;
  uri: string;
  protocol: string;
  time: number;
};

/** The longest a change waits before it is written. */
export const FLUSH_MS = 100;

/**
 * A request's fields as strings from env (kept by reference, not the env), encoded when
 * shown; linked into the list of requests in flight while it runs.
 */
type InFlight = {
  addr: string;
  host: string;
  method: string;
  uri: string;
  protocol: string;
  time: number;
  fields: string | undefined;
  prev: InFlight | undefined;
  next: InFlight | undefined;
  running: boolean;
};

/**
 * Node serves requests of one worker concurrently, where a Perl worker serves one at a time:
 * the worker is `A` while any request is in flight, showing the oldest one still running
 * (the one a person looking for a stuck request wants, with the largest `ss`); `_` with the
 * last finished request's fields once none is.
 *
 * Updates are coalesced: a request marks the slot dirty and one write at most every
 * FLUSH_MS records the state and the counts, so a loaded worker writes about ten times a
 * second instead of twice per request, and the fields are only encoded for the request on
 * show. What another worker reads is at most FLUSH_MS old (a status page shows seconds); a
 * worker that exits writes what is pending from its 'exit' handler.
 */
export class WorkerState {
  readonly #slot: Slot;
  // Requests in flight, oldest first: a doubly linked list through the requests themselves,
  // O(1) at both ends and in the middle, nothing allocated beyond the request itself.
  #oldest: InFlight | undefined;
  #newest: InFlight | undefined;
  #last: InFlight | undefined;
  #requests = 0;
  #bytes = 0;
  #scheduled = false;
  #now = 0;
  #begun = 0;

  constructor(slot: Slot) {
    this.#slot = slot;
    process.once('exit', () => {
      if (this.#scheduled) this.#flush();
    });
  }

  begin(env: Env): InFlight {
    const req: InFlight = {
      addr: env.REMOTE_ADDR,
      host: env.HTTP_HOST ?? '-',
      method: env.REQUEST_METHOD,
      uri: env.REQUEST_URI,
      protocol: env.SERVER_PROTOCOL,
      time: this.#clock(),
      fields: undefined,
      prev: this.#newest,
      next: undefined,
      running: true,
    };
    if (this.#newest) {
      this.#newest.next = req;
    } else {
      this.#oldest = req;
      this.#dirty();
    }
    this.#newest = req;
    return req;
  }

  /**
   * A request's start time, read from the system clock when no flush is pending, when one
   * is scheduled and every 64th request, else reused: under load a few ms old at most,
   * never older than FLUSH_MS. Date.now() was about a third of this middleware's own time
   * per request; a 10 ms timer refreshing it cost more than it saved (0.936x against 0.95x).
   */
  #clock(): number {
    if (!this.#scheduled || (++this.#begun & 63) === 0) this.#now = Date.now();
    return this.#now;
  }

  end(req: InFlight, bytes: number): void {
    if (!req.running) return;
    req.running = false;
    const prev = req.prev;
    const next = req.next;
    if (prev) prev.next = next;
    else this.#oldest = next;
    if (next) next.prev = prev;
    else this.#newest = prev;
    // Unlinked, so a request shown as the last one does not keep its neighbours alive.
    req.prev = req.next = undefined;
    this.#last = req;
    this.#requests += 1;
    this.#bytes += bytes;
    this.#dirty();
  }

  #dirty(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // A window opens: what #clock() hands out from now on is at most FLUSH_MS old.
    this.#now = Date.now();
    // unref: a pending flush must not keep a finished process alive; 'exit' writes it.
    setTimeout(this.#flush, FLUSH_MS).unref();
  }

  /** Writes what is pending now: the status page does it for its own worker before reading. */
  flush(): void {
    this.#flush();
  }

  readonly #flush = (): void => {
    if (!this.#scheduled) return;
    this.#scheduled = false;
    const busy = this.#oldest;
    const shown = busy ?? this.#last;
    let payload = busy ? 'A' : '_';
    if (shown) {
      shown.fields ??= encodeFields(shown, this.#slot.capacity - 1);
      payload += shown.fields;
    }
    this.#slot.update(payload, this.#requests, this.#bytes);
    this.#requests = 0;
    this.#bytes = 0;
  };
}

const states = new WeakMap<Slot, WorkerState>();

/** One state per slot, so two middleware instances on one scoreboard in one process agree. */
export function workerState(slot: Slot): WorkerState {
  let state = states.get(slot);
  if (!state) {
    state = new WorkerState(slot);
    states.set(slot, state);
  }
  return state;
}

export function encodeFields(
  req: Pick<InFlight, 'addr' | 'host' | 'method' | 'uri' | 'protocol' | 'time'>,
  room: number,
): string {
  let { host, uri } = req;
  const time = req.time;
  const make = (): string => JSON.stringify([req.addr, host, req.method, uri, req.protocol, time]);
  let json = make();
  // A long URI or Host is cut, never the frame: the record has a fixed size.
  for (let tries = 0; json.length > room && tries < 4; tries++) {
    const over = json.length - room;
    if (uri.length > 16) uri = uri.slice(0, Math.max(16, uri.length - over - 8));
    else host = host.slice(0, Math.max(0, host.length - over - 8));
    json = make();
  }
  return json.length > room ? JSON.stringify(['', '', '', '', '', time]) : json;
}

/** Reads a payload back; undefined fields for a slot that has not served a request yet. */
export function decodePayload(payload: string): { status: string; fields: RequestFields | undefined } {
  const status = payload.charAt(0) || '_';
  if (payload.length < 2) return { status, fields: undefined };
  try {
    const a = JSON.parse(payload.slice(1)) as unknown[];
    if (!Array.isArray(a) || a.length < 6) return { status, fields: undefined };
    const s = (v: unknown): string => (typeof v === 'string' ? v : '');
    return {
      status,
      fields: {
        remote_addr: s(a[0]),
        host: s(a[1]),
        method: s(a[2]),
        uri: s(a[3]),
        protocol: s(a[4]),
        time: typeof a[5] === 'number' ? a[5] : 0,
      },
    };
  } catch {
    return { status, fields: undefined };
  }
}
