import type { StatusData, WorkerLine } from './collect.js';

/** Byte strings (one character per byte) decoded as the UTF-8 they are, for JSON and HTML. */
export function utf8(s: string): string {
  return /[^\x00-\x7f]/.test(s) ? Buffer.from(s, 'latin1').toString('utf8') : s;
}

/** The Perl module's human form of an uptime: `2 days, 3 hours, 1 minutes, 5 seconds`. */
export function duration(seconds: number): string {
  let rest = seconds;
  let out = '';
  for (const [span, unit] of [
    [86400, 'days'],
    [3600, 'hours'],
    [60, 'minutes'],
  ] as const) {
    // `>`, not `>=`, as in Perl: exactly 60 s reads "60 seconds".
    if (rest > span) {
      out += `${Math.floor(rest / span)} ${unit}, `;
      rest %= span;
    }
  }
  return `${out}${rest} seconds`;
}

const uptime = (d: StatusData): number => Math.floor((d.startedAt ?? d.now) / 1000);
const upSeconds = (d: StatusData): number => Math.floor(d.now / 1000) - uptime(d);
const LINE_FIELDS = ['pid', 'status', 'remote_addr', 'host', 'method', 'uri', 'protocol', 'ss'] as const;

/** Plack::Middleware::ServerStatus::Lite's text page, byte for byte (a latin1 string). */
export function textFormat(d: StatusData): string {
  // The CLI does not know when the server started (as Perl's server-status drops Uptime).
  let body = d.startedAt === undefined ? '' : `ServerUptime: ${duration(upSeconds(d))}\nUptime: ${uptime(d)}\n`;
  if (d.totals) body += `Total Accesses: ${d.totals.accesses}\nTotal kBytes: ${Math.floor(d.totals.bytes / 1000)}\n`;
  if (!d.workers) return `${body}WARN: Scoreboard has been disabled\n`;
  body += `BusyWorkers: ${d.busy}\nIdleWorkers: ${d.idle}\n`;
  // Not Perl keys: a prefork pool's bounds and spare capacity (clients skip keys they do not know).
  const policy = d.pool?.policy;
  if (policy)
    body += `PoolFloor: ${policy.floor}\nPoolMax: ${policy.max}\nPoolMinSpare: ${policy.minSpare}\nPoolMaxSpare: ${policy.maxSpare}\n`;
  if (d.pool?.spare !== undefined) body += `PoolSpare: ${d.pool.spare}\n`;
  body += `--\n${LINE_FIELDS.join(' ')}\n`;
  for (const w of d.workers) body += `${LINE_FIELDS.map((k) => w[k] ?? '').join(' ')}\n`;
  return body;
}

/** The Perl module's `?json` document: same keys, top-level numbers as strings as Perl encodes them. */
export function jsonFormat(d: StatusData): string {
  const doc: Record<string, unknown> = d.startedAt === undefined ? {} : { Uptime: String(uptime(d)) };
  if (d.totals) {
    doc.TotalAccesses = String(d.totals.accesses);
    doc.TotalKbytes = String(Math.floor(d.totals.bytes / 1000));
  }
  if (!d.workers) {
    doc.WARN = 'Scoreboard has been disabled';
    return JSON.stringify(doc);
  }
  doc.BusyWorkers = String(d.busy);
  doc.IdleWorkers = String(d.idle);
  doc.stats = d.workers.map((w) => {
    const o: Record<string, unknown> = { pid: w.pid };
    for (const k of LINE_FIELDS) {
      const v = w[k];
      if (k !== 'pid' && v !== undefined) o[k] = typeof v === 'string' ? utf8(v) : v;
    }
    // Not Perl keys (clients written for Perl ignore them): starting, idle, busy or retiring,
    // and a prefork worker's event-loop load and requests in flight.
    o.state = w.state;
    if (w.load !== undefined) o.load = w.load;
    if (w.inFlight !== undefined) o.inFlight = w.inFlight;
    return o;
  });
  if (d.pool) doc.pool = d.pool;
  return JSON.stringify(doc);
}

const workerLabels = (w: WorkerLine): string => `pid="${w.pid}",slot="${w.slot}"`;

/**
 * Prometheus text exposition (0.0.4), or OpenMetrics 1.0 when `openMetrics` is set: same
 * samples; OpenMetrics names a counter's family without `_total` and ends with `# EOF`.
 */
export function prometheusFormat(d: StatusData, openMetrics = false): string {
  const out: string[] = [];
  const family = (
    name: string,
    type: 'gauge' | 'counter',
    help: string,
    samples: Array<[labels: string, value: number]>,
  ): void => {
    const fam = openMetrics && type === 'counter' ? name.replace(/_total$/, '') : name;
    out.push(`# HELP ${fam} ${help}`, `# TYPE ${fam} ${type}`);
    for (const [labels, value] of samples) out.push(`${name}${labels ? `{${labels}}` : ''} ${value}`);
  };
  if (d.startedAt !== undefined) {
    family('plank_server_start_time_seconds', 'gauge', 'When the server started, in seconds since the Unix epoch.', [
      ['', uptime(d)],
    ]);
    family('plank_server_uptime_seconds', 'gauge', 'Seconds since the server started.', [['', upSeconds(d)]]);
  }
  if (d.totals) {
    family(
      'plank_http_requests_total',
      'counter',
      'Requests finished by every worker, including workers that have exited.',
      [['', d.totals.accesses]],
    );
    family(
      'plank_http_response_body_bytes_total',
      'counter',
      'Response body bytes sent by every worker, including workers that have exited.',
      [['', d.totals.bytes]],
    );
  }
  if (d.workers) {
    family('plank_workers', 'gauge', 'Workers by state: busy serving a request, or idle.', [
      ['state="busy"', d.busy],
      ['state="idle"', d.idle],
    ]);
    family(
      'plank_worker_busy',
      'gauge',
      'Whether the worker is serving a request (1) or not (0).',
      d.workers.map((w) => [workerLabels(w), w.status === 'A' ? 1 : 0]),
    );
    const started = d.workers.filter((w) => w.ss !== undefined);
    family(
      'plank_worker_request_age_seconds',
      'gauge',
      "Seconds since the worker's most recent request started (the status page's ss).",
      started.map((w) => [workerLabels(w), w.ss as number]),
    );
    const reporting = d.workers.filter((w) => w.load !== undefined);
    if (reporting.length > 0)
      family(
        'plank_worker_event_loop_utilization',
        'gauge',
        "The part of the last second the worker's event loop was busy (0 to 1).",
        reporting.map((w) => [workerLabels(w), w.load as number]),
      );
    family(
      'plank_worker_requests_total',
      'counter',
      'Requests finished by this worker since it started.',
      d.workers.map((w) => [workerLabels(w), w.requests]),
    );
  }
  if (openMetrics) out.push('# EOF');
  return `${out.join('\n')}\n`;
}
