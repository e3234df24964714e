import { parts } from './strftime.js';

// Period arithmetic for rotating file names, on the same calendar fields as strftime.

/** A rotation period: `daily`, `hourly`, `Nh`, `Nm` or (mostly for tests) `Ns`. */
export type Rotate = 'daily' | 'hourly' | `${number}h` | `${number}m` | `${number}s`;

export type Period = { unit: 'd' | 'h' | 'm' | 's'; n: number };

/** Parses a rotate option; undefined when it is not one. */
export function parseRotate(rotate: string): Period | undefined {
  if (rotate === 'daily') return { unit: 'd', n: 1 };
  if (rotate === 'hourly') return { unit: 'h', n: 1 };
  const m = /^([1-9]\d*)([hms])$/.exec(rotate);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] as 'h' | 'm' | 's';
  const perDay = unit === 'h' ? 24 : unit === 'm' ? 1440 : 86_400;
  return n <= perDay ? { unit, n } : undefined;
}

const p2 = (n: number): string => String(n).padStart(2, '0');

// Local or UTC wall-clock time to epoch ms; out-of-range fields roll over (hour 24 is the next day).
function at(utc: boolean, Y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  return utc ? Date.UTC(Y, mo, d, h, mi, s) : new Date(Y, mo, d, h, mi, s).getTime();
}

/**
 * The period holding `ms`: its name (what replaces %DATE%) and when the next one starts.
 * Periods are aligned on the day, so every process computes the same names.
 */
export function periodAt(ms: number, period: Period, utc: boolean): { name: string; next: number } {
  const { Y, m: mo, d, H, M, S } = parts(ms, utc);
  const day = `${Y}-${p2(mo + 1)}-${p2(d)}`;
  const midnight = at(utc, Y, mo, d + 1, 0, 0, 0);
  if (period.unit === 'd') return { name: day, next: midnight };
  if (period.unit === 'h') {
    const h = H - (H % period.n);
    return { name: `${day}-${p2(h)}`, next: Math.min(midnight, at(utc, Y, mo, d, h + period.n, 0, 0)) };
  }
  if (period.unit === 'm') {
    const of = H * 60 + M;
    const start = of - (of % period.n);
    return {
      name: `${day}-${p2(Math.floor(start / 60))}${p2(start % 60)}`,
      next: Math.min(midnight, at(utc, Y, mo, d, 0, start + period.n, 0)),
    };
  }
  const of = H * 3600 + M * 60 + S;
  const start = of - (of % period.n);
  const name = `${day}-${p2(Math.floor(start / 3600))}${p2(Math.floor(start / 60) % 60)}${p2(start % 60)}`;
  return { name, next: Math.min(midnight, at(utc, Y, mo, d, 0, 0, start + period.n)) };
}
