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

  it('returns a view for a contiguous run on axis 0 and copies anything else', () => {
    const data = range(12); // [4, 3]
    const run = selectAlongAxis(data, [4, 3], 0, [1, 2]);
    expect(run.dims).toEqual([2, 3]);
    expect(Array.from(run.data)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(run.data.buffer).toBe(data.buffer);
    const last = selectAlongAxis(data, [4, 3], 0, [3]);
    expect(Array.from(last.data)).toEqual([9, 10, 11]);
    expect(last.data.buffer).toBe(data.buffer);
    // [2, 2, 3]: a run on axis 1 spans two separate blocks, so it is copied
    const inner = selectAlongAxis(data, [2, 2, 3], 1, [1]);
    expect(Array.from(inner.data)).toEqual([3, 4, 5, 9, 10, 11]);
    expect(inner.data.buffer).not.toBe(data.buffer);
    expect(Array.from(selectAlongAxis(data, [4, 3], 0, [0, 2]).data)).toEqual([0, 1, 2, 6, 7, 8]);
  });

  it('rejects out-of-range indices and axes', () => {
    expect(() => selectAlongAxis(range(6), [3, 2], 0, [3])).toThrow(RangeError);
    expect(() => selectAlongAxis(range(6), [3, 2], 2, [0])).toThrow(RangeError);
  });
});
