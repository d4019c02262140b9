// The cells of a sweep: where each one enters the batched run and with which edited rows. Pure functions.
import type { PatchSite, SweepJob } from './types.js';

/**
 * Where a cell enters the block pieces (src/graph/build-sweep.ts): before attention (its resid_pre edited),
 * after attention (z edited), after W_O (attn_out edited), after the MLP (mlp_out edited), or at ln_final
 * (resid_post of the last block edited). Ordered as a block runs.
 */
export type JoinStage = 'resid_pre' | 'z' | 'attn_out' | 'mlp_out';
export const STAGE_ORDER: Record<JoinStage, number> = { resid_pre: 0, z: 1, attn_out: 2, mlp_out: 3 };

export interface Cell {
  row: number;
  col: number;
  /** Block the cell enters (nLayer = after the last block: straight to ln_final). */
  layer: number;
  stage: JoinStage;
  /** First position whose value the edit changes; the cell runs positions p0..T-1 (the ones before are the base run's). */
  p0: number;
  /** [T - p0, d_model]: the residual stream before the piece the cell enters (resid_pre, or resid_mid at mlp_out). */
  stream: Float32Array;
  /** [T - p0, width]: the edited piece output (z, attn_out, mlp_out); null when the stream itself is edited. */
  edited: Float32Array | null;
}

/** A cell whose edit changes nothing: its value is the unedited run's. */
export interface NoOpCell {
  row: number;
  col: number;
}

/** Base-run tensors a cell reads, by hook name, each [T, width] row-major (hook_z as [T, head*d_head]). */
export type Tensors = ReadonlyMap<string, Float32Array>;

const hook = (layer: number, site: string) => `blocks.${layer}.${site}`;

/** The site a job edits. */
export const jobSite = (job: SweepJob): PatchSite => (job.kind === 'ablate_heads' ? 'attn.hook_z' : job.site);

/** Base hooks the cells of a job need (the edited hook and the stream beside it), per swept layer. */
export function baseHooks(job: SweepJob): string[] {
  const site = jobSite(job);
  const beside: Record<PatchSite, string | null> = {
    'attn.hook_z': 'hook_resid_pre',
    hook_attn_out: 'hook_resid_pre',
    hook_mlp_out: 'hook_resid_mid',
    hook_resid_pre: null,
    hook_resid_post: null,
  };
  const b = beside[site];
  return job.layers.flatMap((l) => (b ? [hook(l, site), hook(l, b)] : [hook(l, site)]));
}

/** Source hooks a patch job reads: the edited hook at each swept layer. */
export const sourceHooks = (job: SweepJob): string[] => job.layers.map((l) => hook(l, jobSite(job)));

export interface CellShape {
  nLayer: number;
  nHead: number;
  dHead: number;
  /** Prompt length T. */
  nPos: number;
}

/** Columns of a job's grid: heads or positions. */
export const columns = (job: SweepJob, s: CellShape) => (job.over === 'head' ? s.nHead : s.nPos);

/**
 * The edited copy of one base tensor [T, width] for cell (layer, col): a head's slice of hook_z zeroed, set to its
 * mean over positions or patched at every position; or one position's row patched.
 */
export function editTensor(job: SweepJob, base: Float32Array, source: Float32Array | null, col: number, s: CellShape) {
  const out = base.slice();
  const width = base.length / s.nPos;
  if (job.over === 'position') {
    out.set((source as Float32Array).subarray(col * width, (col + 1) * width), col * width); // row col from the source
    return out;
  }
  const lo = col * s.dHead;
  const hi = lo + s.dHead;
  if (job.kind === 'ablate_heads' && job.op === 'mean') {
    // the head's z averaged over the run's positions (the mean op of /trace), float64 then rounded
    for (let j = lo; j < hi; j++) {
      let sum = 0;
      for (let t = 0; t < s.nPos; t++) sum += base[t * width + j];
      const m = Math.fround(sum / s.nPos);
      for (let t = 0; t < s.nPos; t++) out[t * width + j] = m;
    }
    return out;
  }
  for (let t = 0; t < s.nPos; t++)
    for (let j = lo; j < hi; j++)
      out[t * width + j] = job.kind === 'patch' ? (source as Float32Array)[t * width + j] : 0;
  return out;
}

/** First row where two [T, width] tensors differ; T when they are equal. */
export function firstChangedRow(a: Float32Array, b: Float32Array, nPos: number): number {
  const width = a.length / nPos;
  for (let t = 0; t < nPos; t++) for (let j = t * width; j < (t + 1) * width; j++) if (!Object.is(a[j], b[j])) return t;
  return nPos;
}

/** Every cell of a job, from the base run's tensors (and the source run's for a patch). */
export function buildCells(job: SweepJob, base: Tensors, source: Tensors | null, s: CellShape) {
  const site = jobSite(job);
  const cells: Cell[] = [];
  const noOps: NoOpCell[] = [];
  const nCols = columns(job, s);
  job.layers.forEach((layer, row) => {
    const at = base.get(hook(layer, site)) as Float32Array;
    const src = source?.get(hook(layer, site)) ?? null;
    for (let col = 0; col < nCols; col++) {
      const edited = editTensor(job, at, src, col, s);
      const p0 = firstChangedRow(edited, at, s.nPos);
      if (p0 === s.nPos) {
        noOps.push({ row, col });
        continue;
      }
      const width = at.length / s.nPos;
      const rows = (x: Float32Array, w: number) => x.subarray(p0 * w, s.nPos * w);
      if (site === 'hook_resid_pre' || site === 'hook_resid_post') {
        const post = site === 'hook_resid_post';
        cells.push({
          row,
          col,
          layer: post ? layer + 1 : layer,
          stage: 'resid_pre',
          p0,
          stream: rows(edited, width),
          edited: null,
        });
        continue;
      }
      const streamHook = site === 'hook_mlp_out' ? 'hook_resid_mid' : 'hook_resid_pre';
      const stream = base.get(hook(layer, streamHook)) as Float32Array;
      const dModel = stream.length / s.nPos;
      const stage: JoinStage = site === 'attn.hook_z' ? 'z' : site === 'hook_attn_out' ? 'attn_out' : 'mlp_out';
      cells.push({ row, col, layer, stage, p0, stream: rows(stream, dModel), edited: rows(edited, width) });
    }
  });
  return { cells, noOps };
}
