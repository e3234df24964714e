// The pool's last minutes as a picture: an inline SVG (no script, no external file), drawn on
// the HTML status page and written by the pool benchmark into test/bench.
import { escapeHtml } from '@plank/core';
import type { PoolSample } from '@plank/scoreboard';

export type TimelineOptions = {
  /** @default 720 */
  width?: number;
  /** @default 240 */
  height?: number;
  /** A line above the plot. */
  title?: string;
  /** Dashed lines across the workers axis, e.g. the pool's floor and maximum. */
  marks?: Array<{ value: number; label: string }>;
};

const fmt = (n: number): string => (Math.round(n * 10) / 10).toString();

/**
 * Workers (a step line), busy workers (the sum of their event-loop loads, a filled area) and
 * requests per second (a second axis on the right) over time, from the pool's one-a-second
 * samples (`pool.history` in the prefork workers file).
 *
 * @example
 * ```ts
 * import { timelineSvg } from '@plank/middleware-server-status-lite';
 * const svg = timelineSvg([{ at: 0, workers: 2, busy: 0.5, rps: 40 }, { at: 1000, workers: 3, busy: 2.4, rps: 310 }]);
 * ```
 */
export function timelineSvg(samples: readonly PoolSample[], options: TimelineOptions = {}): string {
  const width = options.width ?? 720;
  const height = options.height ?? 240;
  const pad = { left: 44, right: 56, top: options.title ? 28 : 12, bottom: 34 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const first = samples[0]?.at ?? 0;
  const span = Math.max(1000, (samples.at(-1)?.at ?? 0) - first);
  const marks = options.marks ?? [];
  const top = Math.max(1, ...samples.map((s) => Math.max(s.workers, s.busy)), ...marks.map((m) => m.value)) + 1;
  const rpsTop = Math.max(1, ...samples.map((s) => s.rps)) * 1.1;
  const x = (at: number): number => pad.left + ((at - first) / span) * plotW;
  const y = (v: number): number => pad.top + plotH - (v / top) * plotH;
  const yr = (v: number): number => pad.top + plotH - (v / rpsTop) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11" role="img" aria-label="workers, busy workers and requests per second over time">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`,
  ];
  if (options.title)
    out.push(`<text x="${pad.left}" y="16" font-size="13" font-weight="600">${escapeHtml(options.title)}</text>`);
  // Axes and their ticks: workers on the left, requests per second on the right, seconds below.
  const ticks = (max: number): number[] => {
    const step = Math.max(1, Math.ceil(max / 5 / (max > 50 ? 10 : 1)) * (max > 50 ? 10 : 1));
    return Array.from({ length: Math.floor(max / step) + 1 }, (_, i) => i * step);
  };
  for (const t of ticks(top)) {
    out.push(
      `<line x1="${pad.left}" x2="${pad.left + plotW}" y1="${fmt(y(t))}" y2="${fmt(y(t))}" stroke="#eee"/>`,
      `<text x="${pad.left - 6}" y="${fmt(y(t) + 4)}" text-anchor="end">${t}</text>`,
    );
  }
  for (let i = 0; i <= 4; i++) {
    const v = (rpsTop / 4) * i;
    out.push(`<text x="${pad.left + plotW + 6}" y="${fmt(yr(v) + 4)}" fill="#2b8a3e">${Math.round(v)}</text>`);
  }
  const seconds = span / 1000;
  const every = [5, 10, 15, 30, 60, 120, 300].find((s) => seconds / s <= 8) ?? 600;
  for (let s = 0; s <= seconds; s += every)
    out.push(`<text x="${fmt(x(first + s * 1000))}" y="${pad.top + plotH + 14}" text-anchor="middle">${s} s</text>`);
  out.push(
    `<line x1="${pad.left}" x2="${pad.left + plotW}" y1="${pad.top + plotH}" y2="${pad.top + plotH}" stroke="#333"/>`,
    `<line x1="${pad.left}" x2="${pad.left}" y1="${pad.top}" y2="${pad.top + plotH}" stroke="#333"/>`,
  );
  for (const m of marks)
    out.push(
      `<line x1="${pad.left}" x2="${pad.left + plotW}" y1="${fmt(y(m.value))}" y2="${fmt(y(m.value))}" stroke="#c92a2a" stroke-dasharray="4 3"/>`,
      `<text x="${pad.left + 4}" y="${fmt(y(m.value) - 3)}" fill="#c92a2a">${escapeHtml(m.label)}</text>`,
    );
  if (samples.length > 0) {
    const busy = samples.map((s) => `${fmt(x(s.at))},${fmt(y(s.busy))}`).join(' ');
    const base = `${fmt(x(samples.at(-1)?.at ?? first))},${fmt(y(0))} ${fmt(x(first))},${fmt(y(0))}`;
    out.push(`<polygon points="${busy} ${base}" fill="#ffa94d" fill-opacity="0.55" stroke="#e8590c"/>`);
    const steps: string[] = [];
    samples.forEach((s, i) => {
      if (i > 0) steps.push(`${fmt(x(s.at))},${fmt(y(samples[i - 1]?.workers ?? 0))}`);
      steps.push(`${fmt(x(s.at))},${fmt(y(s.workers))}`);
    });
    out.push(`<polyline points="${steps.join(' ')}" fill="none" stroke="#1c7ed6" stroke-width="2"/>`);
    const rps = samples.map((s) => `${fmt(x(s.at))},${fmt(yr(s.rps))}`).join(' ');
    out.push(`<polyline points="${rps}" fill="none" stroke="#2b8a3e" stroke-width="1.2"/>`);
  }
  const legend: Array<[string, string]> = [
    ['#1c7ed6', 'workers'],
    ['#e8590c', 'busy (sum of loads)'],
    ['#2b8a3e', 'requests/s (right)'],
  ];
  legend.forEach(([color, label], i) => {
    const lx = pad.left + i * 150;
    out.push(
      `<rect x="${lx}" y="${height - 12}" width="10" height="10" fill="${color}"/>`,
      `<text x="${lx + 14}" y="${height - 3}">${label}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}
