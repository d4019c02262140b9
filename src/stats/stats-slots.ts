// The slots of the statistics kernels' output buffer (tensor-stats.ts in JavaScript, wasm-kernels.ts on WebAssembly).
export const FINITE = 0;
export const NAN = 1;
export const POS_INF = 2;
export const NEG_INF = 3;
export const SHIFT = 4;
export const S1 = 5; // sum (x - shift)
export const S2 = 6; // sum (x - shift)^2
export const SQ = 7; // sum x^2
export const MIN = 8;
export const MAX = 9;
export const MIN_AT = 10; // first index of the minimum
export const MAX_AT = 11; // first index of the maximum
/** Length of the statsKernel output buffer. */
export const STATS_SLOTS = 12;
