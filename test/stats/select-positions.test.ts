import { describe, expect, it } from 'vitest';
import { selectAlongAxis } from '../../src/stats/select-positions.js';

const range = (n: number) => new Float32Array(n).map((_, i) => i);

describe('selectAlongAxis', () => {
  it('takes rows of a [pos, d_model] tensor', () => {
    // [3, 2]: rows [0 1] [2 3] [4 5]
    const s = selectAlongAxis(range(6), [3, 2], 0, [2, 0]);
    expect(s.dims).toEqual([2, 2]);
    expect(Array.from(s.data)).toEqual([4, 5, 0, 1]);
  });

  it('takes the middle axis of [head, query_pos, key_pos]', () => {
    // [2, 3, 3]; head h, query q, key k = h*9 + q*3 + k
    const s = selectAlongAxis(range(18), [2, 3, 3], 1, [2]);
    expect(s.dims).toEqual([2, 1, 3]);
    expect(Array.from(s.data)).toEqual([6, 7, 8, 15, 16, 17]);
  });

  it('returns the same buffer for the identity selection', () => {
    const data = range(6);
    expect(selectAlongAxis(data, [3, 2], 0, [0, 1, 2]).data).toBe(data);
  });

  it('rejects out-of-range indices and axes', () => {
    expect(() => selectAlongAxis(range(6), [3, 2], 0, [3])).toThrow(RangeError);
    expect(() => selectAlongAxis(range(6), [3, 2], 2, [0])).toThrow(RangeError);
  });
});
