import type { Writable } from 'node:stream';

/** Where finished lines go. `write` never throws and never blocks on the peer. */
export type Sink = {
  write(line: string): void;
  /** Resolves once every line written so far was handed to the destination. */
  flush(): Promise<void>;
  /** Flushes, then releases what the sink owns (never a stream it was given). */
  close(): Promise<void>;
};

export type ErrorReporter = (err: Error) => void;

/** A `logger(line)` function gets each line as it is made, newline included, as in Plack. */
export function loggerSink(logger: (line: string) => void, report: ErrorReporter): Sink {
  return {
    write(line) {
      try {
        logger(line);
      } catch (err) {
        report(err as Error);
      }
    },
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

type WritableLike = Pick<Writable, 'write'> & Partial<Pick<Writable, 'once' | 'on' | 'writableNeedDrain' | 'off'>>;

const liveStreams = new Set<() => void>();
let exitHook = false;

/**
 * Lines for a stream are gathered for one event-loop turn and written as one chunk; while
 * the stream asks for a drain nothing more is written, the lines wait in order.
 */
export function streamSink(stream: WritableLike, report: ErrorReporter): Sink {
  let pending: string[] = [];
  let scheduled = false;
  let waitingDrain = false;
  let waiters: Array<() => void> = [];
  const onError = (err: Error): void => report(err);
  stream.on?.('error', onError);
  // At exit whatever waits is handed over, drain or not: process.stdout and stderr on files
  // and pipes write synchronously, so those lines survive process.exit().
  const atExit = (): void => {
    waitingDrain = false;
    flushNow();
  };
  liveStreams.add(atExit);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const f of liveStreams) f();
    });
  }

  const settle = (): void => {
    if (pending.length === 0 && !waitingDrain) {
      const w = waiters;
      waiters = [];
      for (const resolve of w) resolve();
    }
  };
  const drained = (): void => {
    waitingDrain = false;
    flushNow();
  };
  function flushNow(): void {
    scheduled = false;
    if (waitingDrain || pending.length === 0) return settle();
    const batch = pending.length === 1 ? (pending[0] as string) : pending.join('');
    pending = [];
    let ok: boolean;
    try {
      ok = stream.write(batch) !== false;
    } catch (err) {
      report(err as Error);
      ok = true;
    }
    if (!ok && typeof stream.once === 'function') {
      waitingDrain = true;
      stream.once('drain', drained);
    }
    settle();
  }
  return {
    write(line) {
      pending.push(line);
      if (!scheduled && !waitingDrain) {
        scheduled = true;
        setImmediate(flushNow);
      }
    },
    flush() {
      if (pending.length === 0 && !waitingDrain) return Promise.resolve();
      return new Promise((resolve) => {
        waiters.push(resolve);
        if (!waitingDrain) flushNow();
      });
    },
    async close() {
      await this.flush();
      liveStreams.delete(atExit);
      stream.off?.('error', onError);
    },
  };
}
