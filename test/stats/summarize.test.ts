// The summaries of many tensors equal tensorStats + histogram of each, exactly.
import { describe, expect, it } from 'vitest';
import { histogram } from '../../src/stats/histogram.js';
import { summarizeTensors } from '../../src/stats/summarize.js';
import { tensorStats } from '../../src/stats/tensor-stats.js';

/** Deterministic pseudo-random values with NaN/±Inf at fixed strides. */
function tensor(n: number, seed: number, opts: { scale?: number; nonFinite?: boolean } = {}): Float32Array {
  const out = new Float32Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out[i] = (opts.scale ?? 1) * (x / 2147483648 - 0.5);
    if (opts.nonFinite && i % 97 === 5) out[i] = [NaN, Infinity, -Infinity][i % 3];
  }
  return out;
}

/** [head, q, k] scores with -inf above the diagonal. */
function masked(nHead: number, t: number): Float32Array {
  const out = tensor(nHead * t * t, 7, { scale: 8 });
  for (let h = 0; h < nHead; h++)
    for (let q = 0; q < t; q++) for (let k = q + 1; k < t; k++) out[(h * t + q) * t + k] = -Infinity;
  return out;
}

const parent = tensor(5000, 11);
const TENSORS = [
  tensor(40_000, 1),
  tensor(3_001, 2, { nonFinite: true }),
  masked(4, 33),
  new Float32Array(1000).fill(2.5), // min === max: everything in bin 0
  new Float32Array([NaN, Infinity]), // nothing finite
  new Float32Array(0),
  parent.subarray(1234, 3456), // a view with an offset, as a selected run of positions
  tensor(25_000, 3, { scale: 1e4 }),
  tensor(17, 4),
];

const inThread = (t: Float32Array, bins: number) => {
  const stats = tensorStats(t);
  return { stats, histogram: histogram(t, stats.min, stats.max, bins) };
};

describe('summarizeTensors', () => {
  it('gives exactly tensorStats + histogram for every tensor, in order', () => {
    for (const bins of [1, 4, 32, 64]) {
      expect(summarizeTensors(TENSORS, bins)).toEqual(TENSORS.map((t) => inThread(t, bins)));
    }
    // The reused kernel slots must not leak one tensor's values into the next.
    const small = [tensor(100, 9), tensor(2000, 10, { nonFinite: true })];
    expect(summarizeTensors(small, 16)).toEqual(small.map((t) => inThread(t, 16)));
  });

  it('refuses a bin count that is not a positive integer', () => {
    expect(() => summarizeTensors(TENSORS, 0)).toThrow(RangeError);
  });
});
