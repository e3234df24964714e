// The status page's pool section: the prefork master's policy, its last minutes as a picture,
// and its last spawn and retire events.
import { escapeHtml } from '@plank/core';
import type { PoolStatus } from '@plank/scoreboard';
import { timelineSvg } from './chart.js';

export function poolSection(pool: PoolStatus): string {
  const p = pool.policy;
  const facts: Array<[string, string]> = p
    ? [
        ['Policy', `adaptive: ${p.floor} to ${p.max} workers`],
        ['Spare capacity', `${pool.spare ?? '?'} workers (keep between ${p.minSpare} and ${p.maxSpare})`],
        ['Idle time before a retirement', `${p.idleTime / 1000} s`],
        ['Spawn rate', `1, 2, 4, … at most ${p.maxSpawnRate} a second`],
      ]
    : [['Policy', 'fixed']];
  const marks = p
    ? [
        { value: p.floor, label: `floor ${p.floor}` },
        { value: p.max, label: `max ${p.max}` },
      ]
    : [];
  const events = [...pool.events]
    .reverse()
    .map(
      (e) =>
        `<tr class="${e.event}"><td>${escapeHtml(new Date(e.at).toISOString())}</td><td>${e.event}</td><td>${e.pid}</td><td>${escapeHtml(e.why)}</td></tr>`,
    );
  return `<h2>Pool</h2>
<dl id="pool">
${facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('\n')}
</dl>
<figure id="pool-timeline">
${timelineSvg(pool.history, { title: `The last ${Math.round(pool.history.length / 60) || 1} minute(s)`, marks })}
</figure>
<table id="pool-events">
<thead><tr><th>when</th><th>event</th><th>pid</th><th>why</th></tr></thead>
<tbody>
${events.join('\n')}
</tbody>
</table>`;
}
