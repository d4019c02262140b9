// The batched sweep: every cell of a grid on the batch axis of the block pieces, from its own layer and position.
// Exact by construction: below a cell's layer and before its first changed position every value is the base run's
// (causal attention), so the cell starts there with the base keys/values as its past; the rest runs as a plain
// forward of the edited copy would. Only the last position reaches ln_final and the unembedding (the metric's).
import { metricValue } from '../interventions/compare.js';
import { buildCells, type Cell, type CellShape, columns, STAGE_ORDER, type Tensors } from './cells.js';
import type { SweepJob, SweepOutcome, SweepProgress } from './types.js';

/** The block pieces of src/graph/build-sweep.ts as functions over row-major float32 arrays. */
export interface SweepPieces {
  /** resid [batch, pos, d_model], past keys/values [1, head, past, d_head] -> z [batch, pos, head*d_head]. */
  attention(layer: number, resid: Float32Array, batch: number, pos: number, past: Past): Promise<Float32Array>;
  /** z [batch, pos, head*d_head] -> attn_out [batch, pos, d_model]. */
  attnOut(layer: number, z: Float32Array, batch: number, pos: number): Promise<Float32Array>;
  /** resid_mid [batch, pos, d_model] -> mlp_out [batch, pos, d_model]. */
  mlp(layer: number, mid: Float32Array, batch: number, pos: number): Promise<Float32Array>;
  /** rows [n, d_model] -> logits [n, d_vocab], or with `ids` only those columns [n, ids.length]. */
  unembed(rows: Float32Array, n: number, ids?: readonly number[]): Promise<Float32Array>;
}

export interface Past {
  keys: Float32Array;
  values: Float32Array;
  length: number;
}

/** The unedited run: hook tensors, its keys/values per layer ([head, T, d_head]) and its last logits row. */
export interface BaseRun {
  tensors: Tensors;
  keys: readonly Float32Array[];
  values: readonly Float32Array[];
  lastLogits: Float32Array;
}

export interface EngineShape extends CellShape {
  dModel: number;
  dVocab: number;
}

/** Most batch rows (cells x positions) one piece call covers: bounds the MLP's [rows, d_mlp] intermediate. */
export const SWEEP_BATCH_ROWS = 4096;

/** rows [n, pos, w] -> the last position of each [n, 1, w]. */
function lastRows(x: Float32Array, n: number, pos: number): Float32Array {
  const w = x.length / (n * pos);
  const out = new Float32Array(n * w);
  for (let i = 0; i < n; i++) out.set(x.subarray((i * pos + pos - 1) * w, (i * pos + pos) * w), i * w);
  return out;
}

function concat(parts: readonly Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** x + y elementwise, float32 (the residual adds between pieces; IEEE addition, as onnxruntime's Add). */
function add(x: Float32Array, y: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] + y[i];
  return out;
}

/** Keys/values [head, T, d_head] -> the first p0 positions as [1, head, p0, d_head]. */
function pastOf(base: BaseRun, layer: number, p0: number, s: EngineShape): Past {
  const slice = (t: Float32Array) => {
    const out = new Float32Array(s.nHead * p0 * s.dHead);
    for (let h = 0; h < s.nHead; h++)
      out.set(t.subarray(h * s.nPos * s.dHead, (h * s.nPos + p0) * s.dHead), h * p0 * s.dHead);
    return out;
  };
  return { keys: slice(base.keys[layer]), values: slice(base.values[layer]), length: p0 };
}

interface Counters {
  calls: number;
  rows: number;
}

/**
 * One batch of cells sharing p0, sorted by where they enter: runs the blocks from the first cell's layer, each
 * cell joining at its stage; returns the final residual row [n, d_model] of every cell, in `order`.
 */
async function runChunk(
  cells: readonly Cell[],
  p0: number,
  pieces: SweepPieces,
  base: BaseRun,
  s: EngineShape,
  k: Counters,
) {
  const order: Cell[] = [];
  let next = 0;
  const joining = (layer: number, stage: Cell['stage']) => {
    const out: Cell[] = [];
    while (next < cells.length && cells[next].layer === layer && cells[next].stage === stage) out.push(cells[next++]);
    order.push(...out);
    return out;
  };
  let pos = s.nPos - p0;
  let stream: Float32Array = new Float32Array(0); // [n, pos, d_model]
  const count = () => stream.length / (pos * s.dModel);
  const rowsOf = (x: Float32Array, w: number) => (pos === 1 && x.length > w ? x.subarray(x.length - w) : x); // last row once pos = 1
  for (let layer = cells[0].layer; layer < s.nLayer; layer++) {
    const last = layer === s.nLayer - 1;
    stream = concat([stream, ...joining(layer, 'resid_pre').map((c) => c.stream)]);
    let n = count();
    let z: Float32Array =
      n > 0 ? await pieces.attention(layer, stream, n, pos, pastOf(base, layer, p0, s)) : new Float32Array(0);
    if (n > 0) {
      k.calls++;
      k.rows += n * pos;
    }
    if (last && pos > 1) {
      // past the last attention only the last position reaches the metric
      stream = lastRows(stream, n, pos);
      z = lastRows(z, n, pos);
      pos = 1;
    }
    const zJoin = joining(layer, 'z');
    stream = concat([stream, ...zJoin.map((c) => rowsOf(c.stream, s.dModel))]);
    z = concat([z, ...zJoin.map((c) => rowsOf(c.edited as Float32Array, s.dModel))]);
    n = count();
    let attnOut: Float32Array = n > 0 ? await pieces.attnOut(layer, z, n, pos) : new Float32Array(0);
    const aJoin = joining(layer, 'attn_out');
    stream = concat([stream, ...aJoin.map((c) => rowsOf(c.stream, s.dModel))]);
    attnOut = concat([attnOut, ...aJoin.map((c) => rowsOf(c.edited as Float32Array, s.dModel))]);
    let mid: Float32Array = add(stream, attnOut); // resid_mid = resid_pre + attn_out
    n = count();
    let mlpOut: Float32Array = n > 0 ? await pieces.mlp(layer, mid, n, pos) : new Float32Array(0);
    if (n > 0) {
      k.calls += 2;
      k.rows += 2 * n * pos;
    }
    const mJoin = joining(layer, 'mlp_out');
    mid = concat([mid, ...mJoin.map((c) => rowsOf(c.stream, s.dModel))]);
    mlpOut = concat([mlpOut, ...mJoin.map((c) => rowsOf(c.edited as Float32Array, s.dModel))]);
    stream = add(mid, mlpOut); // resid_post = resid_mid + mlp_out
  }
  // cells entering after the last block (its resid_post edited) go straight to ln_final
  const n0 = count();
  const finals = joining(s.nLayer, 'resid_pre').map((c) => lastRows(c.stream, 1, c.stream.length / s.dModel));
  const final = concat([pos > 1 && n0 > 0 ? lastRows(stream, n0, pos) : stream, ...finals]);
  return { order, final };
}

/** Sort key of where a cell enters. */
const entry = (c: Cell) => c.layer * 4 + STAGE_ORDER[c.stage];

/**
 * Cells grouped by first changed position, each group cut into batches of at most `maxRows` rows (and into its share
 * of `minBatches`, for progress), in the order they enter.
 */
export function batches(
  cells: readonly Cell[],
  nPos: number,
  maxRows = SWEEP_BATCH_ROWS,
  minBatches = 1,
): { p0: number; cells: Cell[] }[] {
  const byP0 = new Map<number, Cell[]>();
  for (const c of cells) {
    const g = byP0.get(c.p0);
    if (g) g.push(c);
    else byP0.set(c.p0, [c]);
  }
  const out: { p0: number; cells: Cell[] }[] = [];
  for (const [p0, group] of [...byP0].sort((a, b) => a[0] - b[0])) {
    group.sort((a, b) => entry(a) - entry(b));
    const share = Math.ceil((group.length * minBatches) / Math.max(1, cells.length)); // this group's part of minBatches
    const per = Math.max(1, Math.min(Math.floor(maxRows / (nPos - p0)), Math.ceil(group.length / share)));
    for (let i = 0; i < group.length; i += per) out.push({ p0, cells: group.slice(i, i + per) });
  }
  return out;
}

export async function runSweepCells(
  job: SweepJob,
  pieces: SweepPieces,
  base: BaseRun,
  source: { tensors: Tensors; lastLogits: Float32Array } | null,
  s: EngineShape,
  onProgress?: SweepProgress,
): Promise<Omit<SweepOutcome, 'timings'> & { unembedMs: number }> {
  const nCols = columns(job, s);
  const total = job.layers.length * nCols;
  const runMetric = metricValue(job.metric, job.metricIds, base.lastLogits, base.lastLogits);
  const sourceMetric = source ? metricValue(job.metric, job.metricIds, source.lastLogits, base.lastLogits) : null;
  const values = job.layers.map(() => new Array<number>(nCols).fill(runMetric));
  const { cells } = buildCells(job, base.tensors, source?.tensors ?? null, s);
  let done = total - cells.length;
  onProgress?.(done, total);
  const k: Counters = { calls: 0, rows: 0 };
  const finished: Cell[] = [];
  const finals: Float32Array[] = [];
  for (const b of batches(cells, s.nPos, SWEEP_BATCH_ROWS, job.minBatches ?? 1)) {
    const { order, final } = await runChunk(b.cells, b.p0, pieces, base, s, k);
    finished.push(...order);
    finals.push(final);
    done += b.cells.length;
    onProgress?.(done, total);
  }
  // ln_final + unembedding of every cell's last row, in slices of at most 256 rows: [n, d_model] -> [n, d_vocab]
  const t0 = performance.now();
  const rows = concat(finals.length ? finals : [new Float32Array(0)]);
  const V = s.dVocab;
  for (let i = 0; i < finished.length; i += 256) {
    const n = Math.min(256, finished.length - i);
    const logits = await pieces.unembed(rows.subarray(i * s.dModel, (i + n) * s.dModel), n);
    k.calls++;
    for (let r = 0; r < n; r++) {
      const c = finished[i + r];
      values[c.row][c.col] = metricValue(
        job.metric,
        job.metricIds,
        logits.subarray(r * V, (r + 1) * V),
        base.lastLogits,
      );
    }
  }
  return {
    values,
    runMetric,
    sourceMetric,
    computed: cells.length,
    calls: k.calls,
    rows: k.rows,
    unembedMs: performance.now() - t0,
  };
}
