// Scales from tensor dimensions to pixels: a log scale so a 50257-wide vocabulary and a 64-wide head both fit.

export interface DimScaleOptions {
  /** Pixels for a dimension of 1 (a row vector is still visible). */
  minPx: number;
  /** Pixels for `maxDim`; larger dimensions are clamped here. */
  maxPx: number;
  /** The dimension that reaches maxPx. Fixed across models so that two models' drawings compare. */
  maxDim: number;
  /** 'log' (default): compact, every dim visible; 'linear': true proportions, px = maxPx · d / maxDim. */
  kind?: 'log' | 'linear';
}

export const DEFAULT_DIM_SCALE: DimScaleOptions = { minPx: 8, maxPx: 150, maxDim: 262_144 };

/** True-proportion scale for a flow whose largest dimension is `maxDim`: that dimension gets `maxPx`. */
export function linearScale(maxDim: number, maxPx = 640, minPx = 1): DimScaleOptions {
  return { kind: 'linear', minPx, maxPx, maxDim: Math.max(1, maxDim) };
}

/**
 * px(d) = minPx + (maxPx - minPx) * ln(d) / ln(maxDim), clamped to [minPx, maxPx].
 * Monotonic, so a larger dimension is never drawn smaller; exact values go on the labels.
 */
export function dimToPx(d: number, opts: DimScaleOptions = DEFAULT_DIM_SCALE): number {
  if (opts.kind === 'linear') {
    // True proportions: a [4096, 1024] box is four times as tall as it is wide; tiny dims keep minPx to stay visible.
    const px = Number.isFinite(d) ? (opts.maxPx * Math.min(d, opts.maxDim)) / opts.maxDim : opts.minPx;
    return Math.round(Math.max(opts.minPx, px) * 10) / 10;
  }
  if (!Number.isFinite(d) || d <= 1) return opts.minPx;
  const t = Math.min(1, Math.log(d) / Math.log(opts.maxDim));
  return Math.round((opts.minPx + (opts.maxPx - opts.minPx) * t) * 10) / 10;
}

/** Linear map of [d0, d1] onto [r0, r1]; a degenerate domain maps everything to the middle of the range. */
export function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  if (d1 === d0) return () => (r0 + r1) / 2;
  const k = (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/** Round step (1, 2 or 5 x 10^n) giving about `count` ticks over [min, max]. */
export function niceStep(min: number, max: number, count: number): number {
  const span = Math.abs(max - min);
  if (span === 0 || !Number.isFinite(span)) return 1;
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const mult = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10;
  return mult * mag;
}

/** Tick values covering [min, max] at a nice step (inclusive of the rounded ends). */
export function niceTicks(min: number, max: number, count = 4): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const step = niceStep(min, max, count);
  const start = Math.floor(min / step) * step;
  const end = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  // Index-based so floating-point steps never accumulate error.
  for (let i = 0; start + i * step <= end + step * 1e-9; i++) ticks.push(Number((start + i * step).toPrecision(12)));
  return ticks;
}
