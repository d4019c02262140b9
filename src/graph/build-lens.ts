// The logit-lens graph: residual rows -> ln_final -> tied unembedding -> softmax -> top-k (+ probabilities of tracked ids).
import type { Gpt2Checkpoint } from '../checkpoint/gpt2-checkpoint.js';
import { DT, GraphBuilder } from './onnx-builder.js';
import { externalWeight, layerNorm } from './gpt2-ops.js';

export const LENS_ROWS = 'rows';
export const LENS_K = 'k';
export const LENS_TRACK_IDS = 'track_ids';
export const LENS_TOP_PROBS = 'top_probs';
export const LENS_TOP_IDS = 'top_ids';
export const LENS_TRACKED = 'tracked';

/** Same external weights as the forward graph (ln_f, wte): nothing is duplicated on disk. */
export function buildLensGraph(ckpt: Gpt2Checkpoint, weightsLocation: string): Uint8Array {
  const d = ckpt.dims;
  const g = new GraphBuilder('gpt2_logit_lens');
  const wte = externalWeight(g, ckpt, 'wte.weight', weightsLocation);
  const ln = {
    w: externalWeight(g, ckpt, 'ln_f.weight', weightsLocation),
    b: externalWeight(g, ckpt, 'ln_f.bias', weightsLocation),
  };
  g.input(LENS_ROWS, DT.FLOAT, ['rows', d.dModel]);
  g.input(LENS_K, DT.INT64, [1]);
  g.input(LENS_TRACK_IDS, DT.INT64, ['tracked']);
  const normed = layerNorm(g, LENS_ROWS, ln, d.layerNormEps, 'ln_final'); // [rows, d_model]
  const logits = g.op('Gemm', [normed, wte], 'lens/logits', { transB: 1 }); // [rows, d_model] x [d_vocab, d_model]^T -> [rows, d_vocab]
  const probs = g.op('Softmax', [logits], 'lens/probs', { axis: -1 }); // [rows, d_vocab]
  g.node('TopK', [probs, LENS_K], [LENS_TOP_PROBS, LENS_TOP_IDS], { axis: -1, largest: 1, sorted: 1 }); // 2 x [rows, k]
  g.op('Gather', [probs, LENS_TRACK_IDS], LENS_TRACKED, { axis: 1 }); // [rows, tracked]
  g.output(LENS_TOP_PROBS, DT.FLOAT, ['rows', 'k']);
  g.output(LENS_TOP_IDS, DT.INT64, ['rows', 'k']);
  g.output(LENS_TRACKED, DT.FLOAT, ['rows', 'tracked']);
  return g.encode(`GPT-2 ${d.nLayer}x${d.dModel} logit lens`);
}
