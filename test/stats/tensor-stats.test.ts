import { describe, expect, it } from 'vitest';
import { tensorStats, unravelIndex } from '../../src/stats/tensor-stats.js';

describe('tensorStats', () => {
  it('matches hand-computed values for [1, -2, 3, 4]', () => {
    const s = tensorStats(new Float32Array([1, -2, 3, 4]));
    // mean 6/4 = 1.5; deviations -0.5 -3.5 1.5 2.5 -> squares 0.25 12.25 2.25 6.25 = 21 -> var 21/4 = 5.25
    expect(s.mean).toBe(1.5);
    expect(s.std).toBeCloseTo(Math.sqrt(5.25), 14);
    expect(s.min).toBe(-2);
    expect(s.max).toBe(4);
    expect(s.l2Norm).toBeCloseTo(Math.sqrt(1 + 4 + 9 + 16), 14);
    expect(s.absMax).toBe(4);
    expect(s.absMaxFlat).toBe(3);
    expect([s.count, s.finiteCount, s.nanCount, s.posInfCount, s.negInfCount]).toEqual([4, 4, 0, 0, 0]);
  });

  it('is the population std (divides by N), e.g. [2, 4] -> 1', () => {
    expect(tensorStats(new Float32Array([2, 4])).std).toBe(1);
  });

  it('keeps precision when |mean| >> std (shifted sums)', () => {
    // 1e6 + {-1, 1} alternating: float32-exact, mean 1e6, std exactly 1.
    const data = new Float32Array(10_000).map((_, i) => 1e6 + (i % 2 === 0 ? -1 : 1));
    const s = tensorStats(data);
    expect(s.mean).toBe(1e6);
    expect(s.std).toBe(1);
  });

  it('reports the first |x| maximum and negative abs-max values', () => {
    const s = tensorStats(new Float32Array([0.5, -7, 7, 1]));
    expect(s.absMax).toBe(7);
    expect(s.absMaxFlat).toBe(1);
  });

  it('counts NaN / +Inf / -Inf and leaves them out of the other statistics', () => {
    const s = tensorStats(new Float32Array([NaN, -Infinity, 2, Infinity, -Infinity, 4]));
    expect([s.nanCount, s.posInfCount, s.negInfCount, s.finiteCount, s.count]).toEqual([1, 1, 2, 2, 6]);
    expect(s.mean).toBe(3);
    expect(s.std).toBe(1);
    expect(s.min).toBe(2);
    expect(s.max).toBe(4);
    expect(s.l2Norm).toBeCloseTo(Math.sqrt(20), 14);
    expect(s.absMaxFlat).toBe(5);
  });

  it('gives nulls when nothing is finite', () => {
    const s = tensorStats(new Float32Array([NaN, -Infinity]));
    expect(s).toMatchObject({
      finiteCount: 0,
      mean: null,
      std: null,
      min: null,
      max: null,
      absMax: null,
      absMaxFlat: -1,
      l2Norm: 0,
    });
    expect(tensorStats(new Float32Array(0)).count).toBe(0);
  });

  it('accumulates in float64 (float32 accumulation would lose the small terms)', () => {
    // 2^24 followed by 2^20 ones: in float32, 2^24 + 1 rounds back to 2^24, so a float32 running sum would never move.
    const data = new Float32Array(1 + (1 << 20)).fill(1);
    data[0] = 1 << 24;
    const s = tensorStats(data);
    expect(s.mean! * data.length).toBeCloseTo((1 << 24) + (1 << 20), 3);
  });
});

describe('unravelIndex', () => {
  it('row-major', () => {
    expect(unravelIndex(5, [2, 3])).toEqual([1, 2]);
    expect(unravelIndex(0, [4, 5, 6])).toEqual([0, 0, 0]);
    expect(unravelIndex(4 * 5 * 6 - 1, [4, 5, 6])).toEqual([3, 4, 5]);
    expect(unravelIndex(1 * 30 + 2 * 6 + 3, [4, 5, 6])).toEqual([1, 2, 3]);
  });
});
