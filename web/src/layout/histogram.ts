// Histogram bar geometry from bin counts over [min, max]; optional log-count axis for heavy-tailed activations.

export interface HistogramInput {
  counts: readonly number[];
  /** Left edge of the first bin and right edge of the last. */
  min: number;
  max: number;
  width: number;
  height: number;
  /** log1p(count) heights, so rare outliers (GELU tails) stay visible next to the peak. */
  logCounts?: boolean;
}

export interface HistogramBar {
  x: number;
  y: number;
  w: number;
  h: number;
  count: number;
  lo: number;
  hi: number;
}

/** Bars fill the width; bar height is proportional to count (or log1p count); zero counts have h = 0. */
export function histogramBars(input: HistogramInput): HistogramBar[] {
  const n = input.counts.length;
  if (n === 0) return [];
  const f = input.logCounts ? (c: number) => Math.log1p(c) : (c: number) => c;
  const peak = Math.max(...input.counts.map(f));
  const bw = input.width / n;
  const binSpan = (input.max - input.min) / n;
  return input.counts.map((count, i) => {
    const h = peak > 0 ? (f(count) / peak) * input.height : 0;
    return {
      x: i * bw,
      y: input.height - h,
      w: bw,
      h,
      count,
      lo: input.min + i * binSpan,
      hi: input.min + (i + 1) * binSpan,
    };
  });
}

/** Bin raw values into `bins` equal-width bins over their own [min, max] (for when only values are sent). */
export function binValues(values: ArrayLike<number>, bins: number): { counts: number[]; min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const counts = new Array<number>(Math.max(1, bins)).fill(0);
  if (min === Infinity) return { counts, min: 0, max: 0 };
  const span = max - min;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    // The maximum falls in the last bin rather than one past it.
    const b = span === 0 ? 0 : Math.min(counts.length - 1, Math.floor(((v - min) / span) * counts.length));
    counts[b]++;
  }
  return { counts, min, max };
}
