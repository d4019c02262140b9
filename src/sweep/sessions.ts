// The sweep pieces on onnxruntime sessions: per block an attention, a W_O and an MLP session, and one unembedding.
// Each session holds only its own weights, so all of them together hold one more copy of the model.
import ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import { SWEEP_IO } from '../graph/build-sweep.js';
import { guardedRun, type RuntimeLogger } from '../runtime/ort-guard.js';
import type { ModelDims } from '../arch/model-dims.js';
import type { Past, SweepPieces } from './engine.js';

export interface SweepSessions {
  attention: InferenceSession[];
  attnOut: InferenceSession[];
  mlp: InferenceSession[];
  unembed: InferenceSession;
}

export const releaseSweepSessions = (s: SweepSessions) =>
  Promise.all([...s.attention, ...s.attnOut, ...s.mlp, s.unembed].map((x) => x.release()));

const f32 = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);

export function sweepPieces(s: SweepSessions, d: ModelDims, model: string, logger?: RuntimeLogger): SweepPieces {
  const run = async (session: InferenceSession, feeds: Record<string, ort.Tensor>, out: string, graph: string) =>
    (await guardedRun(session, feeds, [out], { model, graph, logger }))[out].data as Float32Array;
  return {
    attention: (layer: number, resid: Float32Array, batch: number, pos: number, past: Past) =>
      run(
        s.attention[layer],
        {
          [SWEEP_IO.resid]: f32(resid, [batch, pos, d.dModel]),
          [SWEEP_IO.pastKey]: f32(past.keys, [1, d.nHead, past.length, d.dHead]),
          [SWEEP_IO.pastValue]: f32(past.values, [1, d.nHead, past.length, d.dHead]),
        },
        SWEEP_IO.z,
        'sweep attention',
      ),
    attnOut: (layer, z, batch, pos) =>
      run(s.attnOut[layer], { [SWEEP_IO.z]: f32(z, [batch, pos, d.dModel]) }, SWEEP_IO.attnOut, 'sweep attn_out'),
    mlp: (layer, mid, batch, pos) =>
      run(s.mlp[layer], { [SWEEP_IO.mid]: f32(mid, [batch, pos, d.dModel]) }, SWEEP_IO.mlpOut, 'sweep mlp'),
    unembed: (rows, n, ids) =>
      run(
        s.unembed,
        {
          [SWEEP_IO.rows]: f32(rows.byteOffset === 0 ? rows : rows.slice(), [n, d.dModel]),
          [SWEEP_IO.targetIds]: new ort.Tensor('int64', BigInt64Array.from(ids ?? [], BigInt), [ids?.length ?? 0]),
        },
        ids ? SWEEP_IO.targetLogits : SWEEP_IO.logits,
        'sweep unembed',
      ),
  };
}
