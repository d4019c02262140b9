// Statistics + histogram of many tensors, in this thread: the one summary path of /trace and the stream.
import { checkBins, histogramFromCounts, histogramKernel, histogramScale, type HistogramResult } from './histogram.js';
import { STATS_SLOTS, statsFromKernel, statsKernel, type TensorStatsResult } from './tensor-stats.js';

export interface SummaryResult {
  stats: TensorStatsResult;
  histogram: HistogramResult;
}

/**
 * One tensor: the fused statistics pass into `slots` ([STATS_SLOTS], reused between tensors), then the histogram
 * pass over [min, max] — skipped when nothing is finite or min === max (every finite value is in bin 0).
 */
function summarizeOne(data: Float32Array, bins: number, slots: Float64Array): SummaryResult {
  statsKernel(data, slots);
  const stats = statsFromKernel(data.length, slots);
  const { min, max } = stats;
  if (min === null || max === null || min === max) {
    return { stats, histogram: histogramFromCounts(null, min, max, bins, stats.finiteCount) };
  }
  const counts = new Int32Array(bins + 1);
  histogramKernel(data, min, histogramScale(min, max, bins), counts);
  return { stats, histogram: histogramFromCounts(counts, min, max, bins, 0) };
}

/** Stats + `bins`-bin histogram of every tensor, in order ([n_j] -> SummaryResult per tensor). */
export function summarizeTensors(tensors: readonly Float32Array[], bins: number): SummaryResult[] {
  checkBins(bins);
  const slots = new Float64Array(STATS_SLOTS);
  return tensors.map((t) => summarizeOne(t, bins, slots));
}
