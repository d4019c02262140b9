// Stored tensor vs recomputed tensor: how far apart, and how many values fall outside the tolerance.

/** Recomputing on the same build gives identical floats; the tolerance only absorbs thread-count reduction order. */
export const VERIFY_TOLERANCE = { abs: 1e-5, rel: 1e-5 } as const;

export interface TensorDiff {
  /** Largest |stored - fresh| over values finite in both; 0 when there are none. */
  maxAbsDiff: number;
  /** Values with |stored - fresh| > abs + rel·|fresh|, or non-finite in one but not equal in both. */
  outside: number;
}

/** Element-wise comparison of two equally long arrays (-inf equals -inf, NaN equals NaN). */
export function compareValues(
  stored: Float32Array,
  fresh: Float32Array,
  tol: { abs: number; rel: number } = VERIFY_TOLERANCE,
): TensorDiff {
  if (stored.length !== fresh.length)
    return { maxAbsDiff: Number.POSITIVE_INFINITY, outside: Math.max(stored.length, fresh.length) };
  let maxAbsDiff = 0;
  let outside = 0;
  for (let i = 0; i < stored.length; i++) {
    const a = stored[i];
    const b = fresh[i];
    if (Number.isFinite(a) && Number.isFinite(b)) {
      const d = Math.abs(a - b);
      if (d > maxAbsDiff) maxAbsDiff = d;
      if (d > tol.abs + tol.rel * Math.abs(b)) outside++;
    } else if (!(a === b || (Number.isNaN(a) && Number.isNaN(b)))) {
      outside++;
    }
  }
  return { maxAbsDiff, outside };
}
