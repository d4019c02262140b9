// Building blocks shared by the forward and lens graphs: checkpoint weights as external initializers, LayerNorm.
import type { Gpt2Checkpoint } from '../checkpoint/gpt2-checkpoint.js';
import { DT, type ElemType, type GraphBuilder } from './onnx-builder.js';

const ELEM: Record<Gpt2Checkpoint['dtype'], ElemType> = { F32: DT.FLOAT, F16: DT.FLOAT16, BF16: DT.BFLOAT16 };

/**
 * One checkpoint tensor as a float32 graph tensor. The initializer points into model.safetensors
 * (location/offset/length), so the .onnx file holds no weights; F16/BF16 get a Cast to float32
 * (onnxruntime folds it into a float32 constant once, at session creation).
 */
export function externalWeight(g: GraphBuilder, ckpt: Gpt2Checkpoint, name: string, location: string): string {
  const t = ckpt.tensors.get(name);
  if (!t) throw new Error(`externalWeight: checkpoint has no tensor ${name}`);
  if (ckpt.dtype === 'F32') {
    return g.external({
      name,
      elemType: DT.FLOAT,
      dims: t.shape,
      location,
      offset: t.dataOffset,
      length: t.byteLength,
    });
  }
  const raw = g.external({
    name: `${name}.${ckpt.dtype}`,
    elemType: ELEM[ckpt.dtype],
    dims: t.shape,
    location,
    offset: t.dataOffset,
    length: t.byteLength,
  });
  return g.op('Cast', [raw], name, { to: DT.FLOAT });
}

export interface LnWeights {
  w: string;
  b: string;
}

export interface LayerWeights {
  ln1: LnWeights;
  attnW: string; // [d_model, 3*d_model]
  attnB: string; // [3*d_model]
  attnProjW: string; // [d_model, d_model]
  attnProjB: string;
  ln2: LnWeights;
  fcW: string; // [d_model, d_mlp]
  fcB: string;
  mlpProjW: string; // [d_mlp, d_model]
  mlpProjB: string;
}

export interface Weights {
  wte: string; // [d_vocab, d_model]
  wpe: string; // [n_ctx, d_model]
  layers: LayerWeights[];
  lnF: LnWeights;
}

export function addWeights(g: GraphBuilder, ckpt: Gpt2Checkpoint, location: string): Weights {
  const W = (name: string) => externalWeight(g, ckpt, name, location);
  const layers: LayerWeights[] = [];
  for (let i = 0; i < ckpt.dims.nLayer; i++) {
    const h = `h.${i}`;
    layers.push({
      ln1: { w: W(`${h}.ln_1.weight`), b: W(`${h}.ln_1.bias`) },
      attnW: W(`${h}.attn.c_attn.weight`),
      attnB: W(`${h}.attn.c_attn.bias`),
      attnProjW: W(`${h}.attn.c_proj.weight`),
      attnProjB: W(`${h}.attn.c_proj.bias`),
      ln2: { w: W(`${h}.ln_2.weight`), b: W(`${h}.ln_2.bias`) },
      fcW: W(`${h}.mlp.c_fc.weight`),
      fcB: W(`${h}.mlp.c_fc.bias`),
      mlpProjW: W(`${h}.mlp.c_proj.weight`),
      mlpProjB: W(`${h}.mlp.c_proj.bias`),
    });
  }
  return { wte: W('wte.weight'), wpe: W('wpe.weight'), layers, lnF: { w: W('ln_f.weight'), b: W('ln_f.bias') } };
}

/**
 * LayerNorm written out as TransformerLens does, so the scale is a tensor of its own:
 * x - mean; scale = sqrt(mean(x^2) + eps) -> `${prefix}.hook_scale` [pos]; x / scale * w + b -> `${prefix}.hook_normalized`.
 * Input [rows, d_model] -> output [rows, d_model] (without the scale output: any [..., d_model]).
 */
export function layerNorm(
  g: GraphBuilder,
  x: string,
  ln: LnWeights,
  eps: number,
  prefix: string,
  /** Emit `${prefix}.hook_scale` ([rows], for 2-D input only); the batched sweep graphs do without. */
  withScale = true,
): string {
  const eq = g.constFloat(`${prefix}/eps`, [eps]);
  const mean = g.op('ReduceMean', [x], undefined, { axes: [-1], keepdims: 1 }, prefix); // [rows, 1]
  const centred = g.op('Sub', [x, mean], undefined, {}, prefix); // [rows, d_model]
  const variance = g.op(
    'ReduceMean',
    [g.op('Mul', [centred, centred], undefined, {}, prefix)],
    undefined,
    { axes: [-1], keepdims: 1 },
    prefix,
  ); // [rows, 1]
  const scale = g.op('Sqrt', [g.op('Add', [variance, eq], undefined, {}, prefix)], undefined, {}, prefix); // [rows, 1]
  if (withScale) g.op('Squeeze', [scale, g.constInt64(`${prefix}/squeeze_axes`, [1])], `${prefix}.hook_scale`); // [rows]
  const normed = g.op('Div', [centred, scale], undefined, {}, prefix); // [rows, d_model]
  return g.op('Add', [g.op('Mul', [normed, ln.w], undefined, {}, prefix), ln.b], `${prefix}.hook_normalized`);
}
