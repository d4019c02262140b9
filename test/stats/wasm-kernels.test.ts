// The WebAssembly SIMD histogram kernel counts exactly as the JavaScript one, across chunk boundaries, with NaN/±Inf in
// any lane and values outside [min, max]; and the committed bytes match kernels.wat.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { histogramKernel, histogramKernelJs } from '../../src/stats/histogram.js';
import { WASM_MAX_BINS, wasmKernelsAvailable } from '../../src/stats/wasm-kernels.js';
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

describe('WebAssembly histogram kernel', () => {
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

  it('kernels-wasm.ts holds the bytes of kernels.wat (run `npm run build:wasm` after editing it)', async () => {
    expect(await readFile(OUT_PATH, 'utf8')).toBe(kernelsModule(await compileKernels()));
  });
});
