// What a worker publishes about its load, once a second, for the master's pool policy and the
// workers file (read by ServerStatus::Lite and plank-status): the event loop's utilisation over
// the last second, the requests in flight, and the requests finished.
// A net.Server: HTTP servers emit 'request' (counted in flight); other transports (FastCGI) only load.
import type { Server } from 'node:net';
import { performance } from 'node:perf_hooks';

/** How often a worker reports, and how often the master's pool policy runs (Apache's is 1 s too). */
export const LOAD_INTERVAL_MS = 1_000;

export type LoadReport = { load: number; inFlight: number; requests: number };

/**
 * Counts the requests of `servers` and calls `report` every {@link LOAD_INTERVAL_MS}; returns a
 * function that stops it. The timer is unref'd: it never keeps a draining worker alive.
 */
export function watchLoad(servers: readonly Server[], report: (r: LoadReport) => void): () => void {
  let inFlight = 0;
  let requests = 0;
  const finished = (): void => {
    inFlight--;
    requests++;
  };
  // 'close' fires once per response, whether it completed or the client went away; `on`, not
  // `once`, which would wrap the listener in a new closure per response.
  const onRequest = (_req: unknown, res: { on(e: 'close', f: () => void): unknown }): void => {
    inFlight++;
    res.on('close', finished);
  };
  for (const s of servers) s.on('request', onRequest);
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    report({ load: Math.round(utilization * 1000) / 1000, inFlight, requests });
  }, LOAD_INTERVAL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    for (const s of servers) s.off('request', onRequest);
  };
}
