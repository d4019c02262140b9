// The two-thread summaries equal the in-thread tensorStats + histogram exactly, whichever thread did the work.
import { afterAll, describe, expect, it } from 'vitest';
import { histogram } from '../../src/stats/histogram.js';
import { splitLanes, StatsPool, summarizeTensors } from '../../src/stats/stats-pool.js';
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

const pools: StatsPool[] = [];
afterAll(async () => {
  for (const p of pools) await p.close();
});

describe('StatsPool', () => {
  it('gives exactly the in-thread results for every tensor, in order', async () => {
    const pool = new StatsPool();
    pools.push(pool);
    for (const bins of [1, 32, 64]) {
      expect(await pool.summarize(TENSORS, bins)).toEqual(TENSORS.map((t) => inThread(t, bins)));
    }
    // Reusing the shared buffer for a smaller batch must not leak the previous batch's values.
    const small = [tensor(100, 9), tensor(2000, 10, { nonFinite: true })];
    expect(await pool.summarize(small, 16)).toEqual(small.map((t) => inThread(t, 16)));
  });

  it('runs concurrent batches independently', async () => {
    const pool = new StatsPool();
    pools.push(pool);
    const a = [tensor(30_000, 21), tensor(20_000, 22)];
    const b = [tensor(10_000, 23, { nonFinite: true }), masked(2, 50), tensor(25_000, 24)];
    const [ra, rb] = await Promise.all([pool.summarize(a, 8), pool.summarize(b, 8)]);
    expect(ra).toEqual(a.map((t) => inThread(t, 8)));
    expect(rb).toEqual(b.map((t) => inThread(t, 8)));
  });

  it('rejects after close, and summarizeTensors (shared pool or in-thread) gives the same results', async () => {
    const pool = new StatsPool();
    await pool.close();
    expect(pool.usable).toBe(false);
    await expect(pool.summarize(TENSORS, 4)).rejects.toThrow(/closed/);
    expect(await summarizeTensors(TENSORS, 4, 0)).toEqual(TENSORS.map((t) => inThread(t, 4))); // shared worker
    expect(await summarizeTensors(TENSORS, 4)).toEqual(TENSORS.map((t) => inThread(t, 4))); // default: this thread
    await expect(summarizeTensors(TENSORS, 0)).rejects.toThrow(RangeError);
  });
});

describe('splitLanes', () => {
  it('puts every tensor in exactly one lane and balances the values', () => {
    const sizes = [500, 12, 3000, 3000, 7, 800, 1200, 64, 2048, 1];
    const tensors = sizes.map((n) => new Float32Array(n));
    const { mine, theirs } = splitLanes(tensors);
    expect([...mine, ...theirs].sort((x, y) => x - y)).toEqual(sizes.map((_, j) => j));
    const sum = (lane: number[]) => lane.reduce((acc, j) => acc + sizes[j], 0);
    // The caller also copies the worker's lane, so its own lane is the smaller one, but not by more than a tensor.
    expect(sum(mine)).toBeLessThanOrEqual(sum(theirs));
    expect(sum(theirs) - sum(mine)).toBeLessThanOrEqual(Math.max(...sizes));
  });
});
