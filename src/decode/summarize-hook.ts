// One activation -> its HookSummary: select positions, statistics, histogram, optional raw values.
import type { Dim, HookSite } from '../hooks/catalogue.js';
import type { Activation } from '../runtime/types.js';
import type { HookSummary } from '../schemas/trace.js';
import { histogram, type HistogramResult } from '../stats/histogram.js';
import { selectAlongAxis } from '../stats/select-positions.js';
import { tensorStats, unravelIndex, type TensorStatsResult } from '../stats/tensor-stats.js';

export interface HookSummaryOptions {
  /** Absolute token positions to keep along the pos / query_pos axis. */
  positions: readonly number[];
  /** Absolute position of the activation's first pos row (the KV-cache length before this forward). */
  offset: number;
  bins: number;
  /** Include the raw values of the slice. */
  full: boolean;
}

/** The axis positions are selected on: the first pos or query_pos axis of the site (from the catalogue, not the name). */
export function positionAxis(dims: readonly Dim[]): number {
  return dims.findIndex((d) => d === 'pos' || d === 'query_pos');
}

/** The part of an activation a summary covers: the selected positions, [..., n_selected, ...]. */
export interface HookSlice {
  data: Float32Array;
  dims: number[];
  /** The pos / query_pos axis; -1 for a site without one (kept whole). */
  axis: number;
}

/** Check the rank against the catalogue and select the positions (no copy when they are all, or one contiguous run on axis 0). */
export function sliceHook(act: Activation, site: HookSite, opts: HookSummaryOptions): HookSlice {
  if (act.dims.length !== site.dims.length) {
    throw new Error(
      `${act.hook}: expected ${site.dims.length} axes (${site.dims.join(', ')}), got [${act.dims.join(', ')}]`,
    );
  }
  const axis = positionAxis(site.dims);
  if (axis < 0) return { data: act.data, dims: [...act.dims], axis };
  // e.g. pattern [head, query_pos, key_pos] -> [head, n_selected, key_pos]
  const sliced = selectAlongAxis(
    act.data,
    act.dims,
    axis,
    opts.positions.map((p) => p - opts.offset),
  );
  return { ...sliced, axis };
}

/** The HookSummary of a slice whose statistics and histogram are already computed (src/stats/summarize.ts). */
export function hookSummaryFrom(
  act: Activation,
  site: HookSite,
  layer: number | null,
  opts: HookSummaryOptions,
  slice: HookSlice,
  s: TensorStatsResult,
  h: HistogramResult,
): HookSummary {
  const { axis } = slice;
  let absMaxIndex: HookSummary['stats']['abs_max_index'] = null;
  if (s.absMaxFlat >= 0) {
    const index = unravelIndex(s.absMaxFlat, slice.dims);
    const coords: Record<string, number> = {};
    site.dims.forEach((name, a) => {
      coords[name] = a === axis ? opts.positions[index[a]] : index[a];
    });
    absMaxIndex = { flat: s.absMaxFlat, index, coords };
  }
  const summary: HookSummary = {
    hook: act.hook,
    site: site.site,
    layer,
    axes: site.dims.map((name, a) => ({ name, size: slice.dims[a] })),
    shape: slice.dims,
    full_shape: [...act.dims],
    positions: axis < 0 ? [] : [...opts.positions],
    stats: {
      count: s.count,
      finite_count: s.finiteCount,
      mean: s.mean,
      std: s.std,
      min: s.min,
      max: s.max,
      l2_norm: s.l2Norm,
      abs_max: s.absMax,
      abs_max_index: absMaxIndex,
      nan_count: s.nanCount,
      pos_inf_count: s.posInfCount,
      neg_inf_count: s.negInfCount,
    },
    histogram: { min: s.min, max: s.max, edges: h.edges, counts: h.counts },
  };
  if (opts.full) summary.values = slice.data; // written as JSON by src/json/json-bytes.ts (non-finite -> null)
  return summary;
}

export function summarizeHook(
  act: Activation,
  site: HookSite,
  layer: number | null,
  opts: HookSummaryOptions,
): HookSummary {
  const slice = sliceHook(act, site, opts);
  const s = tensorStats(slice.data);
  const h = histogram(slice.data, s.min, s.max, opts.bins);
  return hookSummaryFrom(act, site, layer, opts, slice, s, h);
}
