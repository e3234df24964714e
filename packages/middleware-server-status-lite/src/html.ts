import { escapeHtml } from '@plank/core';
import type { StatusData } from './collect.js';
import { duration, utf8 } from './formats.js';
import { poolSection } from './pool-html.js';

// Worker fields are latin1 byte strings (decoded for people here), numbers or missing.
const cell = (v: unknown): string => `<td>${escapeHtml(typeof v === 'string' ? utf8(v) : String(v ?? ''))}</td>`;

/**
 * A page for people: the summary, one square per worker (Apache's scoreboard grid), and a
 * table of what each worker does. It reloads itself every `refresh` seconds (Apache's
 * `?refresh=N`); no script, so it works wherever HTML does.
 */
export function htmlFormat(d: StatusData, refresh: number): string {
  const up = d.startedAt === undefined ? undefined : Math.floor(d.now / 1000) - Math.floor(d.startedAt / 1000);
  const rows: string[] = [];
  const squares: string[] = [];
  for (const w of d.workers ?? []) {
    const { state } = w;
    const doing = w.status === 'A' ? `${utf8(w.method ?? '')} ${utf8(w.uri ?? '')}` : '';
    const title = `pid ${w.pid}${w.slot ? `, slot ${w.slot}` : ''}: ${state}${doing ? ` ${doing}` : ''}`;
    squares.push(`<span class="worker ${state}" title="${escapeHtml(title)}">${escapeHtml(w.status ?? '.')}</span>`);
    rows.push(
      `<tr class="${state}">${[w.pid, w.slot || '', w.status ?? '', state, w.remote_addr, w.host, w.method, w.uri, w.protocol, w.ss, w.requests, w.load, w.inFlight].map(cell).join('')}</tr>`,
    );
  }
  const summary: Array<[string, string | number]> = [];
  if (d.startedAt !== undefined && up !== undefined)
    summary.push(['Server uptime', duration(up)], ['Started', new Date(d.startedAt).toISOString()]);
  if (d.totals)
    summary.push(['Total accesses', d.totals.accesses], ['Total kBytes', Math.floor(d.totals.bytes / 1000)]);
  if (d.workers) summary.push(['Busy workers', d.busy], ['Idle workers', d.idle]);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="${refresh}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Server status</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
dt { font-weight: 600; }
dd { margin: 0; }
#grid { display: flex; flex-wrap: wrap; gap: 4px; margin: 1em 0; }
.worker { width: 2em; height: 2em; display: inline-flex; align-items: center; justify-content: center; font: 600 14px monospace; border-radius: 3px; }
.worker.busy { background: #e8590c; color: #fff; }
.worker.idle { background: #2f9e44; color: #fff; }
.worker.starting { background: #ced4da; }
.worker.retiring { background: #868e96; color: #fff; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: .2em .6em; border-bottom: 1px solid #dee2e6; font-family: monospace; }
tr.busy td { background: #fff4e6; }
figure { margin: 1em 0; }
</style>
</head>
<body>
<h1>Server status</h1>
<dl id="summary">
${summary.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(String(v))}</dd>`).join('\n')}
</dl>
${
  d.workers
    ? `<div id="grid" aria-label="workers">${squares.join('')}</div>
<table id="workers">
<thead><tr><th>pid</th><th>slot</th><th>status</th><th>state</th><th>remote_addr</th><th>host</th><th>method</th><th>uri</th><th>protocol</th><th>ss</th><th>requests</th><th>load</th><th>in flight</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`
    : '<p class="warn">Scoreboard has been disabled</p>'
}
${d.pool ? poolSection(d.pool) : ''}
<p><small>Refreshes every ${refresh} s. Also as <a href="?json">JSON</a>, <a href="?format=prometheus">Prometheus</a> and <a href="?auto">text</a>.</small></p>
</body>
</html>
`;
}
