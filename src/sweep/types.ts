// A sweep as the model worker receives it and what it answers: plain data (structured-clone safe).
import type { Metric } from '../schemas/interventions.js';
import type { PatchSite } from '../schemas/sweep.js';

export type { PatchSite };

/**
 * One grid. Rows are `layers`; columns are heads (ablate_heads, patch over heads) or positions (patch over
 * positions). The edited run is `runIds`; a patch takes its values from the same hook of a clean run of `sourceIds`
 * (same length). Each cell is exactly one intervention of /trace:
 * - ablate_heads: `{hook: blocks.L.attn.hook_z, heads: [h], op}` on runIds;
 * - patch over position: `{hook: blocks.L.<site>, positions: [p], op: patch, source: sourceIds}`;
 * - patch over head: `{hook: blocks.L.attn.hook_z, heads: [h], op: patch, source: sourceIds}`.
 */
export interface SweepJob {
  kind: 'ablate_heads' | 'patch';
  /** ablate_heads only. */
  op: 'zero' | 'mean';
  /** patch only; ablate_heads edits attn.hook_z. */
  site: PatchSite;
  over: 'head' | 'position';
  layers: number[];
  runIds: number[];
  sourceIds: number[] | null;
  metric: Metric;
  metricIds: number[];
  /** Cut the cells into at least this many batches, so progress moves (default 1: batches as large as allowed). */
  minBatches?: number;
}

export interface SweepOutcome {
  /** [layers.length, columns] metric of each cell. */
  values: number[][];
  /** The metric of the unedited run (runIds) and of the source run (sourceIds; null without one). */
  runMetric: number;
  sourceMetric: number | null;
  /** Cells computed on the batch axis (the rest leave the run unchanged, so they equal runMetric). */
  computed: number;
  /** onnxruntime calls made for the cells, and the rows (batch x positions) they covered. */
  calls: number;
  rows: number;
  timings: { base_ms: number; cells_ms: number; unembed_ms: number };
}

/** Cells done / total, reported while a sweep runs. */
export type SweepProgress = (done: number, total: number) => void;
