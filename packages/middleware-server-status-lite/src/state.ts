// What a worker writes to its slot. The payload is the status character followed by a JSON
// array of the request's fields, so one request builds its fields once and its two updates
// (`A` when it starts, `_` when it is over) differ by one character.
import type { Env } from '@plank/core';
import type { Slot } from '@plank/scoreboard';

/** The fields of one request, as the Perl module keeps them (byte strings, `time` in ms). */
export type RequestFields = { remote_addr: string; host: string; method: string; uri: string; protocol: string; time: number };

type InFlight = { fields: string };

/**
 * Node serves requests of one worker concurrently, where a Perl worker serves one at a time:
 * the worker is `A` while any request is in flight, showing the oldest one still running
 * (the one a person looking for a stuck request wants, with the largest `ss`); `_` with the
 * last finished request's fields once none is.
 */
export class WorkerState {
  readonly #slot: Slot;
  readonly #inFlight: InFlight[] = [];

  constructor(slot: Slot) {
    this.#slot = slot;
  }

  begin(env: Env): InFlight {
    const req = { fields: encodeFields(env, this.#slot.capacity - 1) };
    // Already busy with an older request, which stays on show: nothing to write.
    if (this.#inFlight.push(req) === 1) this.#slot.update(`A${req.fields}`);
    return req;
  }

  end(req: InFlight, bytes: number): void {
    const list = this.#inFlight;
    const i = list.indexOf(req);
    if (i === -1) return;
    list.splice(i, 1);
    const shown = list.length > 0 ? `A${(list[0] as InFlight).fields}` : `_${req.fields}`;
    this.#slot.update(shown, 1, bytes);
  }
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

export function encodeFields(env: Env, room: number): string {
  let host = env.HTTP_HOST ?? '-';
  let uri = env.REQUEST_URI;
  const make = (): string => JSON.stringify([env.REMOTE_ADDR, host, env.REQUEST_METHOD, uri, env.SERVER_PROTOCOL, Date.now()]);
  let json = make();
  // A long URI or Host is cut, never the frame: the record has a fixed size.
  for (let tries = 0; json.length > room && tries < 4; tries++) {
    const over = json.length - room;
    if (uri.length > 16) uri = uri.slice(0, Math.max(16, uri.length - over - 8));
    else host = host.slice(0, Math.max(0, host.length - over - 8));
    json = make();
  }
  return json.length > room ? JSON.stringify(['', '', '', '', '', Date.now()]) : json;
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
      fields: { remote_addr: s(a[0]), host: s(a[1]), method: s(a[2]), uri: s(a[3]), protocol: s(a[4]), time: typeof a[5] === 'number' ? a[5] : 0 },
    };
  } catch {
    return { status, fields: undefined };
  }
}
