// Keep chosen indices along one axis of a row-major tensor (e.g. the pos / query_pos axis of a hook).

export interface SlicedTensor {
  data: Float32Array;
  dims: number[];
}

/**
 * Select `indices` (relative to the axis, each in [0, dims[axis])) along `axis`.
 * [..., n, ...] -> [..., indices.length, ...]. Returns the input unchanged (no copy) when
 * `indices` is exactly 0..n-1, and a view (subarray, no copy) for a contiguous run on axis 0; callers only read it.
 */
export function selectAlongAxis(
  data: Float32Array,
  dims: readonly number[],
  axis: number,
  indices: readonly number[],
): SlicedTensor {
  if (axis < 0 || axis >= dims.length) throw new RangeError(`axis ${axis} out of range for ${dims.length} dims`);
  const n = dims[axis];
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= n)
      throw new RangeError(`index ${i} out of range for axis ${axis} of size ${n}`);
  }
  const identity = indices.length === n && indices.every((v, k) => v === k);
  if (identity) return { data, dims: [...dims] };
  let outer = 1;
  for (let a = 0; a < axis; a++) outer *= dims[a];
  let inner = 1;
  for (let a = axis + 1; a < dims.length; a++) inner *= dims[a];
  const outDims = [...dims];
  outDims[axis] = indices.length;
  // One run i0..i0+k-1 on the outermost axis (e.g. "last", or a range of pos rows) is one contiguous block: a view.
  const run = indices.length > 0 && indices.every((v, k) => v === indices[0] + k);
  if (outer === 1 && run)
    return { data: data.subarray(indices[0] * inner, (indices[0] + indices.length) * inner), dims: outDims };
  const out = new Float32Array(outer * indices.length * inner);
  let w = 0;
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    for (const i of indices) {
      // one contiguous [inner] block per (outer, selected index)
      out.set(data.subarray(base + i * inner, base + (i + 1) * inner), w);
      w += inner;
    }
  }
  return { data: out, dims: outDims };
}
