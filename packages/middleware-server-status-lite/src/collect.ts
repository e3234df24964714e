import type { PoolStatus, Scoreboard } from '@plank/scoreboard';
import { decodePayload } from './state.js';

/** One line of the status page, with the Perl module's field names. */
export type WorkerLine = {
  pid: number;
  /** `A` busy, `_` idle; undefined for a worker the master lists that has no slot yet. */
  status: string | undefined;
  remote_addr: string | undefined;
  host: string | undefined;
  method: string | undefined;
  uri: string | undefined;
  protocol: string | undefined;
  /** Seconds since the most recent request started. */
  ss: number | undefined;
  slot: number;
  generation: number | undefined;
  requests: number;
  bytes: number;
  /**
   * `busy` or `idle` from the worker's slot; `starting` before its slot exists; `retiring`
   * when the prefork master has started a newer generation (after a HUP).
   */
  state: 'starting' | 'idle' | 'busy' | 'retiring';
  /** Its event loop's utilisation over the last second (0–1), from a prefork master. */
  load?: number;
  /** Requests it was answering then, from a prefork master. */
  inFlight?: number;
};

export type StatusData = {
  /** When the server started (ms since the epoch): the prefork master's start, else the middleware's; unknown to the CLI without a master. */
  startedAt: number | undefined;
  now: number;
  /** With a counter file: every request and body byte of every worker, dead ones included. */
  totals: { accesses: number; bytes: number } | undefined;
  /** Undefined when there is no scoreboard. */
  workers: WorkerLine[] | undefined;
  busy: number;
  idle: number;
  /** The prefork master's pool: its policy (when adaptive), last minutes and last events. */
  pool?: PoolStatus;
};

export async function collect(
  board: Scoreboard | undefined,
  processStartedAt: number | undefined,
): Promise<StatusData> {
  const now = Date.now();
  if (!board) return { startedAt: processStartedAt, now, totals: undefined, workers: undefined, busy: 0, idle: 0 };
  const snap = await board.read();
  let busy = 0;
  const workers = snap.workers.map((w): WorkerLine => {
    const { status, fields } =
      w.payload === undefined ? { status: undefined, fields: undefined } : decodePayload(w.payload);
    if (status === 'A') busy++;
    return {
      pid: w.pid,
      status,
      remote_addr: fields?.remote_addr,
      host: fields?.host,
      method: fields?.method,
      uri: fields?.uri,
      protocol: fields?.protocol,
      // As Perl computes it: whole seconds now minus whole seconds then.
      ss: fields ? Math.floor(now / 1000) - Math.floor(fields.time / 1000) : undefined,
      slot: w.slot,
      generation: w.generation,
      requests: w.requests,
      bytes: w.bytes,
      state: w.state === 'retiring' ? 'retiring' : status === undefined ? 'starting' : status === 'A' ? 'busy' : 'idle',
      ...(w.load === undefined ? {} : { load: w.load }),
      ...(w.inFlight === undefined ? {} : { inFlight: w.inFlight }),
    };
  });
  return {
    startedAt: snap.master?.startedAt ?? processStartedAt,
    now,
    totals: snap.totals ? { accesses: snap.totals.requests, bytes: snap.totals.bytes } : undefined,
    workers,
    busy,
    idle: workers.length - busy,
    ...(snap.master?.pool ? { pool: snap.master.pool } : {}),
  };
}
