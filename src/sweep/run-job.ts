// A sweep job inside the process that holds the model: the base (and source) run, then every cell on the batch axis.
import type { OrtKvCache } from '../runtime/kv-cache.js';
import type { ModelDims } from '../arch/model-dims.js';
import type { ForwardRequest, ForwardResult } from '../runtime/types.js';
import { baseHooks, sourceHooks } from './cells.js';
import { runSweepCells, type SweepPieces } from './engine.js';
import type { SweepJob, SweepOutcome, SweepProgress } from './types.js';

const lastRow = (r: ForwardResult, d: ModelDims) => {
  const T = r.logits.dims[0];
  return r.logits.data.slice((T - 1) * d.dVocab, T * d.dVocab); // [d_vocab]
};

const tensors = (r: ForwardResult) => new Map([...r.activations].map(([h, a]) => [h, a.data]));

/**
 * `forward` is the model's plain forward (the unedited runs are exactly those of /trace); its present cache must be
 * a OrtKvCache (the keys and values are read as the cells' past).
 */
export async function runSweepJob(
  job: SweepJob,
  dims: ModelDims,
  forward: (req: ForwardRequest) => Promise<ForwardResult>,
  pieces: () => Promise<SweepPieces>,
  onProgress?: SweepProgress,
): Promise<SweepOutcome> {
  const p = await pieces(); // opened on the first sweep of a model
  const t0 = performance.now();
  // [T] -> the hooks the cells enter from, the keys/values [head, T, d_head] per layer, logits [T, d_vocab]
  const base = await forward({ tokenIds: job.runIds, hooks: baseHooks(job) });
  const source = job.sourceIds ? await forward({ tokenIds: job.sourceIds, hooks: sourceHooks(job) }) : null;
  const present = base.present as OrtKvCache;
  const t1 = performance.now();
  const shape = { ...dims, nPos: job.runIds.length };
  const r = await runSweepCells(
    job,
    p,
    {
      tensors: tensors(base),
      keys: present.keys.map((k) => k.data),
      values: present.values.map((v) => v.data),
      lastLogits: lastRow(base, dims),
    },
    source ? { tensors: tensors(source), lastLogits: lastRow(source, dims) } : null,
    shape,
    onProgress,
  );
  const t2 = performance.now();
  const { unembedMs, ...rest } = r;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    ...rest,
    timings: { base_ms: round(t1 - t0), cells_ms: round(t2 - t1 - unembedMs), unembed_ms: round(unembedMs) },
  };
}
