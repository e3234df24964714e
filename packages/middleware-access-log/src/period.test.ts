import { describe, expect, it } from 'vitest';
import { parseRotate, periodAt } from './period.js';

describe('periodAt', () => {
  const t = Date.UTC(2026, 10, 21, 13, 47, 31, 500);
  it('names daily, hourly, N-hour, N-minute and N-second periods and finds the next boundary', () => {
    expect(periodAt(t, parseRotate('daily')!, true)).toEqual({ name: '2026-11-21', next: Date.UTC(2026, 10, 22) });
    expect(periodAt(t, parseRotate('hourly')!, true)).toEqual({
      name: '2026-11-21-13',
      next: Date.UTC(2026, 10, 21, 14),
    });
    expect(periodAt(t, parseRotate('6h')!, true)).toEqual({ name: '2026-11-21-12', next: Date.UTC(2026, 10, 21, 18) });
    expect(periodAt(t, parseRotate('15m')!, true)).toEqual({
      name: '2026-11-21-1345',
      next: Date.UTC(2026, 10, 21, 14, 0),
    });
    expect(periodAt(t, parseRotate('10s')!, true)).toEqual({
      name: '2026-11-21-134730',
      next: Date.UTC(2026, 10, 21, 13, 47, 40),
    });
  });
  it('never lets a period run past midnight', () => {
    expect(periodAt(Date.UTC(2026, 0, 1, 21), parseRotate('7h')!, true)).toEqual({
      name: '2026-01-01-21',
      next: Date.UTC(2026, 0, 2),
    });
  });
  it('rejects periods it cannot align', () => {
    expect(parseRotate('weekly')).toBeUndefined();
    expect(parseRotate('0h')).toBeUndefined();
    expect(parseRotate('25h')).toBeUndefined();
  });
});
