// The WebAssembly SIMD kernels give the JavaScript kernels' results across chunk boundaries, with NaN/±Inf in any
// lane, signed zeros and values outside [min, max]; and the committed bytes match kernels.wat.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { histogramKernel, histogramKernelJs } from '../../src/stats/histogram.js';
import { WASM_MAX_BINS, wasmKernelsAvailable } from '../../src/stats/wasm-kernels.js';
import { STATS_SLOTS, statsFromKernel, statsKernel, statsKernelJs } from '../../src/stats/tensor-stats.js';
import { mulberry32 as rng } from '../../tools/checkpoint/make-random.js';
import { compileKernels, kernelsModule, OUT_PATH } from '../../tools/wasm/build-kernels.js';

const CHUNK = 16384;

function tensor(next: () => number, n: number, nonFinite = 0, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = next();
    out[i] = r < nonFinite ? [NaN, Infinity, -Infinity][Math.floor((r / nonFinite) * 3)] : scale * (next() - 0.5);
  }
  return out;
}

function expectSameCounts(data: Float32Array, min: number, max: number, bins: number) {
  const scale = bins / (max - min);
  const a = new Int32Array(bins + 1);
  const b = new Int32Array(bins + 1);
  histogramKernel(data, min, scale, a);
  histogramKernelJs(data, min, scale, b);
  expect(Array.from(a)).toEqual(Array.from(b));
}

describe('WebAssembly kernels', () => {
  it('load on this Node', () => {
    expect(wasmKernelsAvailable).toBe(true);
  });

  it('histogram counts equal the JavaScript kernel for 1..WASM_MAX_BINS bins, narrower ranges and non-finite lanes', () => {
    const next = rng(6);
    for (const bins of [1, 2, 7, 32, 64, 256, WASM_MAX_BINS, WASM_MAX_BINS + 1]) {
      const data = tensor(next, 2 * CHUNK + 11, 0.03, 6);
      expectSameCounts(data, -3, 3, bins);
      expectSameCounts(data, -1, 0.5, bins); // values outside [min, max] clamp into the end bins
    }
    const extremes = tensor(next, CHUNK + 1);
    extremes[7] = 1e30;
    extremes[8] = -1e30;
    expectSameCounts(extremes, -0.25, 0.25, 16);
  });

  it('histogram counts equal the JavaScript kernel on and next to every bin edge (the float32 fast path falls back)', () => {
    for (const [min, max, bins] of [
      [-3, 3, 64],
      [0.1, 0.7, 48],
      [3000, 3000.01, 64],
      [-1e-3, 2e-3, WASM_MAX_BINS],
    ]) {
      const lo = Math.fround(min);
      const width = (Math.fround(max) - lo) / bins;
      const values: number[] = [];
      for (let b = 0; b <= bins; b++) {
        const edge = Math.fround(lo + b * width);
        // the edge and its float32 neighbours
        const f = new Float32Array([edge]);
        const u = new Uint32Array(f.buffer);
        for (const d of [-2, -1, 0, 1, 2]) values.push(new Float32Array(new Uint32Array([u[0] + d]).buffer)[0]);
      }
      const data = Float32Array.from(values);
      expectSameCounts(data, lo, Math.fround(max), bins);
      expectSameCounts(data, lo + 1e-9, Math.fround(max), bins); // a min that is no float32: the float64 rule only
    }
  });

  it('statistics equal the JavaScript kernel: counts, extrema and the abs-max index exactly, sums to 1e-12', () => {
    const next = rng(9);
    const cases: Float32Array[] = [
      tensor(next, 256),
      tensor(next, 3 * CHUNK + 7, 0.02, 8),
      tensor(next, CHUNK + 3, 0.9),
      tensor(next, 1000).map((x) => 3000 + x * 0.01), // |mean| >> std
    ];
    const zeros = tensor(next, CHUNK + 5);
    zeros.fill(0, 0, CHUNK + 5);
    zeros[CHUNK + 1] = -0; // min = max = 0: the first zero's sign, as JavaScript's `<` keeps it
    cases.push(
      zeros,
      zeros.map((x, i) => (i === 0 || i === 6 ? -0 : x)),
    );
    const ties = tensor(next, 2 * CHUNK);
    ties[CHUNK + 9] = 5;
    ties[CHUNK + 2] = -5; // |x| = abs-max at both signs: the earlier index
    ties[40] = NaN;
    ties[0] = -Infinity; // a leading non-finite value (the shift is the first finite one)
    cases.push(ties, new Float32Array(300).fill(NaN));
    for (const data of cases) {
      const w = new Float64Array(STATS_SLOTS);
      const j = new Float64Array(STATS_SLOTS);
      statsKernel(data, w);
      statsKernelJs(data, j);
      const a = statsFromKernel(data.length, w);
      const b = statsFromKernel(data.length, j);
      expect([a.finiteCount, a.nanCount, a.posInfCount, a.negInfCount]).toEqual([
        b.finiteCount,
        b.nanCount,
        b.posInfCount,
        b.negInfCount,
      ]);
      expect([a.min, a.max, a.absMax, a.absMaxFlat].map((v) => Object.is(v, -0))).toEqual(
        [b.min, b.max, b.absMax, b.absMaxFlat].map((v) => Object.is(v, -0)),
      );
      expect([a.min, a.max, a.absMax, a.absMaxFlat]).toEqual([b.min, b.max, b.absMax, b.absMaxFlat]);
      for (const k of ['mean', 'std', 'l2Norm'] as const) {
        const [x, y] = [a[k] ?? 0, b[k] ?? 0];
        expect(Math.abs(x - y), `${k}: ${x} vs ${y}`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(y)));
      }
    }
  });

  it('kernels-wasm.ts holds the bytes of kernels.wat (run `npm run build:wasm` after editing it)', async () => {
    expect(await readFile(OUT_PATH, 'utf8')).toBe(kernelsModule(await compileKernels()));
  });
});
