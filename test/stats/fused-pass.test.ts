// The fused tensorStats pass and the histogram kernel against naive two-pass float64 references on random tensors.
import { describe, expect, it } from 'vitest';
import { histogram } from '../../src/stats/histogram.js';
import { tensorStats } from '../../src/stats/tensor-stats.js';
import { mulberry32 as rng } from '../../tools/checkpoint/make-random.js';

/** Straightforward reference: filter the finite values, then mean, then squared deviations (two passes). */
function naiveStats(data: Float32Array) {
  const finite: number[] = [];
  let nan = 0;
  let posInf = 0;
  let negInf = 0;
  for (const x of data) {
    if (Number.isNaN(x)) nan++;
    else if (x === Infinity) posInf++;
    else if (x === -Infinity) negInf++;
    else finite.push(x);
  }
  if (finite.length === 0)
    return {
      finite: 0,
      nan,
      posInf,
      negInf,
      mean: null,
      std: null,
      min: null,
      max: null,
      l2: 0,
      absMax: null,
      absAt: -1,
    };
  const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
  const variance = finite.reduce((a, b) => a + (b - mean) ** 2, 0) / finite.length;
  const absMax = Math.max(...finite.map(Math.abs));
  return {
    finite: finite.length,
    nan,
    posInf,
    negInf,
    mean,
    std: Math.sqrt(variance),
    min: Math.min(...finite),
    max: Math.max(...finite),
    l2: Math.sqrt(finite.reduce((a, b) => a + b * b, 0)),
    absMax,
    absAt: data.findIndex((x) => Math.abs(x) === absMax),
  };
}

/** The previous histogram, value by value: Math.floor of (x - min) * bins / (max - min), clamped into [0, bins). */
function naiveHistogram(data: Float32Array, min: number, max: number, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (const x of data) {
    if (!Number.isFinite(x)) continue;
    const b = max === min ? 0 : Math.floor((x - min) * (bins / (max - min)));
    counts[Math.min(bins - 1, Math.max(0, b))]++;
  }
  return counts;
}

/** Random tensor: Gaussian-ish values at `scale` around `center`, with a share of NaN/±Inf sprinkled in. */
function tensor(
  next: () => number,
  n: number,
  opts: { center?: number; scale?: number; nonFinite?: number } = {},
): Float32Array {
  const { center = 0, scale = 1, nonFinite = 0 } = opts;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = next();
    if (r < nonFinite) out[i] = [NaN, Infinity, -Infinity][Math.floor((r / nonFinite) * 3)];
    else out[i] = center + scale * (next() + next() + next() - 1.5);
  }
  return out;
}

/** Causally masked scores [head, q, k]: -inf where k > q, as attn.hook_attn_scores. */
function maskedScores(next: () => number, nHead: number, t: number): Float32Array {
  const out = tensor(next, nHead * t * t, { scale: 4 });
  for (let h = 0; h < nHead; h++)
    for (let q = 0; q < t; q++) for (let k = q + 1; k < t; k++) out[(h * t + q) * t + k] = -Infinity;
  return out;
}

const close = (got: number | null, want: number | null, rel = 1e-10) => {
  if (want === null) return expect(got).toBeNull();
  expect(Math.abs((got as number) - want), `${got} vs ${want}`).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(want)));
};

function expectSameStats(data: Float32Array) {
  const s = tensorStats(data);
  const r = naiveStats(data);
  expect([s.count, s.finiteCount, s.nanCount, s.posInfCount, s.negInfCount]).toEqual([
    data.length,
    r.finite,
    r.nan,
    r.posInf,
    r.negInf,
  ]);
  expect([s.min, s.max, s.absMax, s.absMaxFlat]).toEqual([r.min, r.max, r.absMax, r.absAt]);
  close(s.mean, r.mean);
  close(s.std, r.std);
  close(s.l2Norm, r.l2);
}

describe('tensorStats fused pass = naive two-pass float64', () => {
  it('on random tensors of every length 0..40 (tails and groups of four), with and without NaN/±Inf', () => {
    const next = rng(1);
    for (let n = 0; n <= 40; n++) {
      expectSameStats(tensor(next, n));
      expectSameStats(tensor(next, n, { nonFinite: 0.2 }));
      expectSameStats(tensor(next, n, { nonFinite: 0.9 }));
    }
  });

  it('on large tensors: activations, an offset mean (|mean| >> std), logits-like scale, masked attention scores', () => {
    const next = rng(2);
    expectSameStats(tensor(next, 100_003));
    expectSameStats(tensor(next, 50_001, { center: 3000, scale: 0.01 }));
    expectSameStats(tensor(next, 80_000, { scale: 50, nonFinite: 0.001 }));
    expectSameStats(maskedScores(next, 3, 37));
  });

  it('puts NaN/±Inf anywhere in a group of four and at the start (before the shift value)', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (let at = 0; at < 9; at++) {
        const data = new Float32Array([0.5, -3, 2, 7, -7, 1, 0, 4, -0.25]);
        data[at] = bad;
        expectSameStats(data);
      }
      expectSameStats(new Float32Array([bad, bad, bad, 1.5, -2, 3]));
    }
  });

  it('reports the first index of |x| = abs_max whichever sign comes first, and nothing finite as nulls', () => {
    expect(tensorStats(new Float32Array([1, 7, -7, 7])).absMaxFlat).toBe(1);
    expect(tensorStats(new Float32Array([1, -7, 7, -7])).absMaxFlat).toBe(1);
    expect(tensorStats(new Float32Array([-1, -3, -2])).absMax).toBe(3);
    expect(tensorStats(new Float32Array([-1, -3, -2])).absMaxFlat).toBe(1);
    expectSameStats(new Float32Array([NaN, -Infinity, Infinity, NaN, NaN]));
  });
});

describe('histogram kernel = value-by-value floor and clamp', () => {
  it('gives identical counts for 1..256 bins on random tensors with NaN/±Inf', () => {
    const next = rng(3);
    for (const bins of [1, 2, 3, 7, 32, 64, 255, 256]) {
      const data = tensor(next, 20_011, { scale: 3, nonFinite: 0.05 });
      const s = tensorStats(data);
      expect(histogram(data, s.min, s.max, bins).counts).toEqual(naiveHistogram(data, s.min!, s.max!, bins));
    }
  });

  it('counts the masked scores finite entries only, max in the last bin', () => {
    const data = maskedScores(rng(4), 2, 29);
    const s = tensorStats(data);
    const h = histogram(data, s.min, s.max, 16);
    expect(h.counts).toEqual(naiveHistogram(data, s.min!, s.max!, 16));
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(s.finiteCount);
    expect(h.counts[15]).toBeGreaterThan(0);
  });

  it('clamps values outside a narrower [min, max] into the end bins, as before', () => {
    const data = new Float32Array([-1e30, -5, 0, 0.5, 1, 5, 1e30, NaN]);
    expect(histogram(data, 0, 1, 4).counts).toEqual(naiveHistogram(data, 0, 1, 4));
    expect(histogram(data, 0, 1, 4).counts).toEqual([3, 0, 1, 3]);
  });
});
