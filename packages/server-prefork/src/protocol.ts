import type { AppSource } from '@plank/core';

/** One live worker, as the master lists them (`env['plank.workers']`). */
export type WorkerInfo = {
  pid: number;
  /** Stable while the worker lives; the smallest number no other live worker holds, from 1. */
  slot: number;
  /** Bumped by every HUP; workers of older generations are on their way out. */
  generation: number;
  state: 'starting' | 'ready' | 'retiring';
  /** When the master forked it (ms since the epoch). */
  startedAt: number;
};

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
  workers: WorkerInfo[];
};

/** `stop.timeout`: ms before the worker cuts the connections still open. */
export type ToWorker =
  | { type: 'start'; config: WorkerConfig }
  /** Stop accepting but keep answering with keep-alive; the worker replies `listeners-closed`. */
  | { type: 'close-listeners' }
  | { type: 'stop'; timeout: number }
  | { type: 'workers'; workers: WorkerInfo[] };

export type ToMaster =
  /** Sent as soon as the worker listens for messages; the master answers with `start`. */
  | { type: 'hello' }
  | { type: 'ready' }
  /** `fatal`: retrying cannot help (the socket cannot be listened on). */
  | { type: 'failed'; error: string; fatal?: boolean }
  | { type: 'retiring'; reason: string }
  | { type: 'listeners-closed' };
