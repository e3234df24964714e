import type { WorkerTransport } from './options.js';
import type { AppSource } from '@plank/core';
import type { MasterWorker } from '@plank/scoreboard';

/**
 * One live worker, as the master lists it (`env['plank.workers']` and the workers file): the
 * workers file's own type, owned by `@plank/scoreboard`, which reads it.
 */
export type WorkerInfo = MasterWorker;

/** What the master tells a new worker in its first message. */
export type WorkerConfig = {
  slot: number;
  generation: number;
  source: AppSource;
  /** The listening sockets, as descriptor numbers in the worker. */
  fds: number[];
  /** Requests before this worker retires; 0 never (the master drew it from [min, max]). */
  maxRequests: number;
  keepAliveTimeout: number;
  maxKeepAliveReqs: number;
  timeout: number;
  gracefulTimeout: number;
  /** The listen queue's length; undefined leaves node's 511. */
  backlog?: number;
  workers: WorkerInfo[];
  /** A server other than HTTP (prefork's `transport` option). */
  transport?: WorkerTransport;
};

/** `stop.timeout`: ms before the worker cuts the connections still open. */
export type ToWorker =
  | { type: 'start'; config: WorkerConfig }
  /** Stop accepting but keep answering with keep-alive; the worker replies `listeners-closed`. */
  | { type: 'close-listeners' }
  | { type: 'stop'; timeout: number }
  /** Enter lame duck: the LameDuck health endpoint fails from now on (a stop or restart follows). */
  | { type: 'lame-duck' }
  | { type: 'workers'; workers: WorkerInfo[] };

export type ToMaster =
  /** Sent as soon as the worker listens for messages; the master answers with `start`. */
  | { type: 'hello' }
  /** `lameDuck`: the seconds the app's LameDuck middleware asked for (core's lameDuckSeconds). */
  | { type: 'ready'; lameDuck?: number }
  /** `fatal`: retrying cannot help (the socket cannot be listened on). */
  /** `error` is the stack, `message` the error's own one-line message. */
  | { type: 'failed'; error: string; message: string; fatal?: boolean }
  | { type: 'retiring'; reason: string }
  | { type: 'listeners-closed' }
  /**
   * Once a second from a ready worker: its event-loop utilisation over that second (0–1), the
   * requests it is answering, and the requests it has finished since it started.
   */
  | { type: 'load'; load: number; inFlight: number; requests: number };
