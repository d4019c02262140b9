// The checkpoint slices direct logit attribution reads, straight from model.safetensors per request: ln_final,
// every layer's W_O and output biases, and only the wte rows of the target tokens (never the whole vocabulary).
import { inspectGpt2Checkpoint } from '../checkpoint/gpt2-checkpoint.js';
import { readFloat32Range } from '../checkpoint/safetensors.js';
import type { DlaWeights } from './dla.js';

/** Target: Σ signs[i] · logit(ids[i]) — one token (sign 1) or a difference (1, -1). */
export interface LogitTarget {
  ids: number[];
  signs: number[];
}

export async function loadDlaWeights(dir: string, target: LogitTarget): Promise<DlaWeights> {
  const ckpt = await inspectGpt2Checkpoint(dir);
  const { nLayer, dModel } = ckpt.dims;
  const file = ckpt.files.weights;
  const whole = (name: string) => {
    const t = ckpt.tensors.get(name);
    if (!t) throw new Error(`checkpoint ${dir} lacks ${name}`); // inspectGpt2Checkpoint already demands every weight
    return readFloat32Range(
      file,
      t,
      0,
      t.shape.reduce((a, b) => a * b, 1),
    );
  };
  const wte = ckpt.tensors.get('wte.weight');
  if (!wte) throw new Error(`checkpoint ${dir} lacks wte.weight`);
  const direction = new Float64Array(dModel); // [d_model]
  for (let i = 0; i < target.ids.length; i++) {
    const rowVals = await readFloat32Range(file, wte, target.ids[i] * dModel, dModel); // wte[id] = W_U[:, id]
    for (let d = 0; d < dModel; d++) direction[d] += target.signs[i] * rowVals[d];
  }
  const wO: Float32Array[] = [];
  const bO: Float32Array[] = [];
  const bOut: Float32Array[] = [];
  for (let l = 0; l < nLayer; l++) {
    wO.push(await whole(`h.${l}.attn.c_proj.weight`));
    bO.push(await whole(`h.${l}.attn.c_proj.bias`));
    bOut.push(await whole(`h.${l}.mlp.c_proj.bias`));
  }
  return {
    direction,
    lnFinalWeight: await whole('ln_f.weight'),
    lnFinalBias: await whole('ln_f.bias'),
    wO,
    bO,
    bOut,
  };
}
