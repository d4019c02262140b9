import { describe, expect, it } from 'vitest';
import { binValues, histogramBars } from '../../../web/src/layout/histogram.js';

describe('histogramBars', () => {
  it('fills the width and scales heights to the peak', () => {
    const bars = histogramBars({ counts: [1, 4, 0, 2], min: -2, max: 2, width: 200, height: 100 });
    expect(bars.map((b) => b.w)).toEqual([50, 50, 50, 50]);
    expect(bars.map((b) => b.h)).toEqual([25, 100, 0, 50]);
    expect(bars.map((b) => b.y)).toEqual([75, 0, 100, 50]);
    expect(bars.map((b) => [b.lo, b.hi])).toEqual([
      [-2, -1],
      [-1, 0],
      [0, 1],
      [1, 2],
    ]);
  });
  it('log counts keep rare bins visible', () => {
    const lin = histogramBars({ counts: [1000, 1], min: 0, max: 1, width: 2, height: 100 });
    const log = histogramBars({ counts: [1000, 1], min: 0, max: 1, width: 2, height: 100, logCounts: true });
    expect(lin[1].h).toBeCloseTo(0.1, 10);
    expect(log[1].h).toBeCloseTo((100 * Math.log(2)) / Math.log(1001), 10);
  });
  it('draws nothing tall for all-zero counts and nothing for no bins', () => {
    expect(histogramBars({ counts: [0, 0], min: 0, max: 1, width: 10, height: 10 }).every((b) => b.h === 0)).toBe(true);
    expect(histogramBars({ counts: [], min: 0, max: 1, width: 10, height: 10 })).toEqual([]);
  });
});

describe('binValues', () => {
  it('bins over [min, max] with the max in the last bin and skips non-finite values', () => {
    expect(binValues([0, 1, 2, 3, 4, Number.NaN, Infinity], 4)).toEqual({ counts: [1, 1, 1, 2], min: 0, max: 4 });
  });
  it('puts constant input in one bin', () => {
    expect(binValues([2, 2, 2], 3)).toEqual({ counts: [3, 0, 0], min: 2, max: 2 });
  });
});
