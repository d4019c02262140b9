// Fixed-bin histogram of the finite values of a tensor over [min, max].

export interface HistogramResult {
  /** bins + 1 edges, edges[i] = min + i * (max - min) / bins (float64); empty when there are no finite values. */
  edges: number[];
  /** counts[i] = finite values in [edges[i], edges[i+1]); the last bin also holds values equal to max. */
  counts: number[];
}

/**
 * Bin index = min(bins - 1, floor((x - min) / width)), width = (max - min) / bins.
 * When min === max every finite value lands in bin 0 and all edges equal min.
 * NaN and ±Inf are skipped (the stats count them); pass the finite min/max from tensorStats.
 */
export function histogram(data: Float32Array, min: number | null, max: number | null, bins: number): HistogramResult {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`histogram bins must be a positive integer, got ${bins}`);
  if (min === null || max === null) return { edges: [], counts: new Array<number>(bins).fill(0) };
  const counts = new Array<number>(bins).fill(0);
  const width = (max - min) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + i * width));
  if (width === 0) {
    for (let i = 0; i < data.length; i++) if (Number.isFinite(data[i])) counts[0]++;
    return { edges, counts };
  }
  const scale = bins / (max - min);
  const last = bins - 1;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (!Number.isFinite(x)) continue;
    const b = Math.floor((x - min) * scale);
    counts[b > last ? last : b < 0 ? 0 : b]++;
  }
  return { edges, counts };
}
