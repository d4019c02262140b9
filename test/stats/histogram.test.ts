import { describe, expect, it } from 'vitest';
import { histogram } from '../../src/stats/histogram.js';

describe('histogram', () => {
  it('splits [min, max] into equal bins; max lands in the last bin', () => {
    const h = histogram(new Float32Array([0, 1, 2, 3, 4]), 0, 4, 4);
    expect(h.edges).toEqual([0, 1, 2, 3, 4]);
    // [0,1) {0}  [1,2) {1}  [2,3) {2}  [3,4] {3,4}
    expect(h.counts).toEqual([1, 1, 1, 2]);
  });

  it('skips non-finite values and counts every finite one', () => {
    const h = histogram(new Float32Array([-1, NaN, 1, -Infinity, 0.5, Infinity]), -1, 1, 2);
    expect(h.edges).toEqual([-1, 0, 1]);
    expect(h.counts).toEqual([1, 2]);
  });

  it('puts everything in bin 0 when min === max', () => {
    const h = histogram(new Float32Array([3, 3, 3]), 3, 3, 5);
    expect(h.counts).toEqual([3, 0, 0, 0, 0]);
    expect(h.edges).toEqual([3, 3, 3, 3, 3, 3]);
  });

  it('is empty-edged with zero counts when there is no finite value', () => {
    expect(histogram(new Float32Array([NaN]), null, null, 3)).toEqual({ edges: [], counts: [0, 0, 0] });
  });

  it('rejects a non-positive bin count', () => {
    expect(() => histogram(new Float32Array([1]), 1, 1, 0)).toThrow(RangeError);
  });
});
