// The histogram kernel on WebAssembly SIMD (kernels.wat): histogramKernel's counts, a chunk at a time.
import { KERNELS_WASM } from './kernels-wasm.js';

/** float32 values per kernel call: the module's first memory page (64 KB stays in L2 between the copy and the pass). */
const CHUNK = 16384;
const COUNTS_BYTES = 65792; // i32[4, bins + 1]: one histogram per SIMD lane
/** The most bins the kernels' memory holds (2 pages); more go to the JavaScript kernel. */
export const WASM_MAX_BINS = Math.floor((2 * 65536 - COUNTS_BYTES) / 16) - 1;

interface Exports {
  memory: WebAssembly.Memory;
  hist(n: number, min: number, scale: number, top: number): void;
}

interface Kernels {
  exports: Exports;
  chunk: Float32Array;
  counts: Int32Array;
}

/** null where WebAssembly SIMD is unavailable: the JavaScript kernel then does all the work. */
const kernels: Kernels | null = (() => {
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(KERNELS_WASM, 'base64')), {});
    const exports = instance.exports as unknown as Exports;
    const buffer = exports.memory.buffer; // never grows: the views stay valid
    return {
      exports,
      chunk: new Float32Array(buffer, 0, CHUNK),
      counts: new Int32Array(buffer, COUNTS_BYTES, 4 * (WASM_MAX_BINS + 1)),
    };
  } catch {
    return null;
  }
})();

export const wasmKernelsAvailable = kernels !== null;

/**
 * histogramKernel on WebAssembly: counts[b] += finite values of bin b (the same float64 rule), counts [bins + 1].
 * False (nothing done) without WebAssembly or with more than WASM_MAX_BINS bins.
 */
export function wasmHistogram(data: Float32Array, min: number, scale: number, counts: Int32Array): boolean {
  const top = counts.length - 1;
  if (kernels === null || top > WASM_MAX_BINS) return false;
  const { exports, chunk } = kernels;
  const raw = kernels.counts.subarray(0, 4 * (top + 1)); // [lane, bins + 1]
  raw.fill(0);
  for (let c = 0; c < data.length; c += CHUNK) {
    const len = Math.min(CHUNK, data.length - c);
    chunk.set(data.subarray(c, c + len));
    exports.hist(len, min, scale, top);
  }
  const w = top + 1;
  for (let b = 0; b <= top; b++) counts[b] += raw[b] + raw[w + b] + raw[2 * w + b] + raw[3 * w + b];
  return true;
}
