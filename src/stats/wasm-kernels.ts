// The statistics and histogram kernels on WebAssembly SIMD (kernels.wat), a chunk at a time.
import { KERNELS_WASM } from './kernels-wasm.js';
import { FINITE, MAX, MAX_AT, MIN, MIN_AT, NAN, NEG_INF, POS_INF, S1, S2, SHIFT, SQ } from './stats-slots.js';

/** float32 values per kernel call: the module's first memory page (64 KB stays in L2 between the copy and the pass). */
const CHUNK = 16384;
const STATS_BYTES = 65536; // the running statistics of `stats` (kernels.wat)
const COUNTS_BYTES = 65792; // i32[4, bins + 1]: one histogram per SIMD lane
/** The most bins the kernels' memory holds (2 pages); more go to the JavaScript kernel. */
export const WASM_MAX_BINS = Math.floor((2 * 65536 - COUNTS_BYTES) / 16) - 1;

interface Exports {
  memory: WebAssembly.Memory;
  hist(n: number, min: number, scale: number, top: number, fast: number): void;
  stats(n: number, shift: number): void;
  find(n: number, a: number, b: number): number;
}

interface Kernels {
  exports: Exports;
  chunk: Float32Array;
  counts: Int32Array;
  /** STATS as f64 [3] (the sums), f32 [2] at 24 (min, max), i32 [4] at 32 (finite, NaN, +Inf, -Inf). */
  sums: Float64Array;
  extrema: Float32Array;
  tallies: Int32Array;
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
      sums: new Float64Array(buffer, STATS_BYTES, 3),
      extrema: new Float32Array(buffer, STATS_BYTES + 24, 2),
      tallies: new Int32Array(buffer, STATS_BYTES + 32, 4),
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
  const fast = Math.fround(min) === min && top <= 4096 ? 1 : 0; // the float32 fast path's bound (kernels.wat)
  for (let c = 0; c < data.length; c += CHUNK) {
    const len = Math.min(CHUNK, data.length - c);
    chunk.set(data.subarray(c, c + len));
    exports.hist(len, min, scale, top, fast);
  }
  const w = top + 1;
  for (let b = 0; b <= top; b++) counts[b] += raw[b] + raw[w + b] + raw[2 * w + b] + raw[3 * w + b];
  return true;
}

/** The first index of `data` holding a or b (-1 if none), chunk by chunk (kernels.wat `find`). */
function wasmFind(k: Kernels, data: Float32Array, a: number, b: number): number {
  for (let c = 0; c < data.length; c += CHUNK) {
    const len = Math.min(CHUNK, data.length - c);
    k.chunk.set(data.subarray(c, c + len));
    const at = k.exports.find(len, a, b);
    if (at >= 0) return c + at;
  }
  return -1;
}

/**
 * statsKernel on WebAssembly, [n] -> out (the same STATS_SLOTS layout and float64 rule; see tensor-stats.ts), given
 * `shift` = the first finite value. The SIMD pass keeps no indices: the first index of the abs-max, and the sign of
 * a zero extremum (JavaScript's `<` keeps the first of -0 and +0), come from a `find` pass once min and max are
 * known, which stops at the first match. False (nothing done) without WebAssembly.
 */
export function wasmStats(data: Float32Array, shift: number, out: Float64Array): boolean {
  if (kernels === null) return false;
  const k = kernels;
  k.sums.fill(0);
  k.tallies.fill(0);
  k.extrema[0] = Infinity;
  k.extrema[1] = -Infinity;
  for (let c = 0; c < data.length; c += CHUNK) {
    const len = Math.min(CHUNK, data.length - c);
    k.chunk.set(data.subarray(c, c + len));
    k.exports.stats(len, shift);
  }
  const finite = k.tallies[0];
  let min = k.extrema[0];
  let max = k.extrema[1];
  let at = -1;
  if (finite > 0) {
    // |x| = abs-max at x = max (if max >= -min) or x = min (if -min >= max): the first such x.
    const a = -min >= max ? min : max;
    const b = max >= -min ? max : min;
    at = wasmFind(k, data, a, b);
    if (min === 0) min = data[wasmFind(k, data, 0, 0)];
    if (max === 0) max = data[wasmFind(k, data, 0, 0)];
  }
  out[FINITE] = finite;
  out[NAN] = k.tallies[1];
  out[POS_INF] = k.tallies[2];
  out[NEG_INF] = k.tallies[3];
  out[SHIFT] = shift;
  out[S1] = k.sums[0];
  out[S2] = k.sums[1];
  out[SQ] = k.sums[2];
  out[MIN] = min;
  out[MAX] = max;
  out[MIN_AT] = at;
  out[MAX_AT] = at;
  return true;
}
