// Direct logit attribution: the final residual at one position split into the pieces that wrote it (embeddings,
// each head, each MLP, the biases), each pushed through ln_final with its scale frozen at the run's value and dotted
// with the target's unembedding direction (TransformerLens' apply_ln_to_stack + residual_stack_to_logit_diff).
//
// ln_final(x) = (x - mean x) / s * w + b, s = sqrt(var x + eps) frozen. For any piece c of x:
//   part(c) = (c - mean c) / s · (w ⊙ dir) = c · g' / s,  g = w ⊙ dir, g' = g - mean(g)
// and the parts sum to logit - b · dir (the ln_final bias term, reported on its own).
// Heads: c_h = z_h @ W_O[h] so part = z_h · (W_O[h] @ g') / s, one [d_model] matrix-vector product per layer.
import type { ModelDims } from '../arch/model-dims.js';
import type { Activation } from '../runtime/types.js';

/** Weights the decomposition reads: small slices of the checkpoint, read per request (no second copy kept). */
export interface DlaWeights {
  /** [d_model] Σ sign_i · W_U[:, id_i] (W_U = wte^T, tied): one token's column or the difference of two. */
  direction: Float64Array;
  lnFinalWeight: Float32Array; // [d_model]
  lnFinalBias: Float32Array; // [d_model]
  /** Per layer: attn.c_proj.weight [d_model (head-major h*d_head+k), d_model] (Conv1D: y = z @ W + b). */
  wO: Float32Array[];
  bO: Float32Array[]; // per layer [d_model]
  bOut: Float32Array[]; // per layer mlp.c_proj.bias [d_model]
}

export type ComponentKind = 'embed' | 'pos_embed' | 'head' | 'attn_bias' | 'mlp' | 'mlp_bias';

export interface DlaComponent {
  kind: ComponentKind;
  layer: number | null;
  head: number | null;
  /** TransformerLens-style label: embed, pos_embed, L3H2, L3 attn bias, L3 MLP, L3 MLP bias. */
  label: string;
  value: number;
}

export interface DlaResult {
  position: number;
  /** The graph's logit (or logit difference) at the position. */
  logit: number;
  /** b_ln_final · direction: the part no residual piece writes. */
  lnFinalBias: number;
  /** Σ of every part (embed + pos_embed + heads + attn biases + MLPs + MLP biases). */
  sum: number;
  /** ln_final scale sqrt(var + eps) at the position, frozen for every part. */
  finalScale: number;
  embed: number;
  posEmbed: number;
  heads: number[][]; // [layer][head]
  attnBias: number[]; // [layer]
  mlp: number[]; // [layer], hook_mlp_out minus its output bias
  mlpBias: number[]; // [layer]
}

/** Hooks the decomposition reads (every position is fetched; one row is used). */
export function attributionHooks(nLayer: number): string[] {
  const hooks = ['hook_embed', 'hook_pos_embed'];
  for (let l = 0; l < nLayer; l++) hooks.push(`blocks.${l}.attn.hook_z`, `blocks.${l}.hook_mlp_out`);
  hooks.push('ln_final.hook_scale');
  return hooks;
}

const need = (acts: ReadonlyMap<string, Activation>, hook: string): Activation => {
  const a = acts.get(hook);
  if (!a) throw new Error(`attribution needs ${hook}, which the forward pass did not return`);
  return a;
};

/** c · g' over one [d_model] row at `offset`. */
function dot(c: Float32Array, offset: number, g: Float64Array): number {
  let s = 0;
  for (let d = 0; d < g.length; d++) s += c[offset + d] * g[d];
  return s;
}

/**
 * Decompose the target logit at `position` (an index into the activations' pos axis).
 * `logitValue` is the graph's Σ sign_i · logits[position, id_i], reported next to the parts.
 */
export function directLogitAttribution(
  acts: ReadonlyMap<string, Activation>,
  w: DlaWeights,
  dims: ModelDims,
  position: number,
  logitValue: number,
): DlaResult {
  const { nLayer, nHead, dModel, dHead } = dims;
  // g = w ⊙ dir, g' = g - mean(g): centring each piece is the same as centring g.  [d_model]
  const g = new Float64Array(dModel);
  let mean = 0;
  for (let d = 0; d < dModel; d++) {
    g[d] = w.lnFinalWeight[d] * w.direction[d];
    mean += g[d];
  }
  mean /= dModel;
  for (let d = 0; d < dModel; d++) g[d] -= mean;
  const scale = need(acts, 'ln_final.hook_scale').data[position]; // [pos] -> scalar
  const row = position * dModel;
  const part = (c: Float32Array, offset: number) => dot(c, offset, g) / scale;

  const embed = part(need(acts, 'hook_embed').data, row);
  const posEmbed = part(need(acts, 'hook_pos_embed').data, row);
  const heads: number[][] = [];
  const attnBias: number[] = [];
  const mlp: number[] = [];
  const mlpBias: number[] = [];
  const u = new Float64Array(dModel); // W_O @ g'  [d_model (h*d_head+k)]
  for (let l = 0; l < nLayer; l++) {
    const wO = w.wO[l]; // [d_model, d_model]
    for (let i = 0; i < dModel; i++) {
      let s = 0;
      const base = i * dModel;
      for (let d = 0; d < dModel; d++) s += wO[base + d] * g[d];
      u[i] = s;
    }
    const z = need(acts, `blocks.${l}.attn.hook_z`).data; // [pos, head, d_head]
    const zRow = position * nHead * dHead;
    const layerHeads: number[] = [];
    for (let h = 0; h < nHead; h++) {
      let s = 0;
      for (let k = 0; k < dHead; k++) s += z[zRow + h * dHead + k] * u[h * dHead + k];
      layerHeads.push(s / scale);
    }
    heads.push(layerHeads);
    attnBias.push(part(w.bO[l], 0));
    const bias = part(w.bOut[l], 0);
    mlp.push(part(need(acts, `blocks.${l}.hook_mlp_out`).data, row) - bias);
    mlpBias.push(bias);
  }
  let lnFinalBias = 0;
  for (let d = 0; d < dModel; d++) lnFinalBias += w.lnFinalBias[d] * w.direction[d];
  let sum = embed + posEmbed;
  for (let l = 0; l < nLayer; l++) {
    for (const v of heads[l]) sum += v;
    sum += attnBias[l] + mlp[l] + mlpBias[l];
  }
  return {
    position,
    logit: logitValue,
    lnFinalBias,
    sum,
    finalScale: scale,
    embed,
    posEmbed,
    heads,
    attnBias,
    mlp,
    mlpBias,
  };
}

/** Every part as a labelled component, largest |value| first, the first `n`. */
export function topComponents(r: DlaResult, n: number): DlaComponent[] {
  const all: DlaComponent[] = [
    { kind: 'embed', layer: null, head: null, label: 'embed', value: r.embed },
    { kind: 'pos_embed', layer: null, head: null, label: 'pos_embed', value: r.posEmbed },
  ];
  r.heads.forEach((hs, l) => {
    hs.forEach((value, h) => all.push({ kind: 'head', layer: l, head: h, label: `L${l}H${h}`, value }));
    all.push({ kind: 'attn_bias', layer: l, head: null, label: `L${l} attn bias`, value: r.attnBias[l] });
    all.push({ kind: 'mlp', layer: l, head: null, label: `L${l} MLP`, value: r.mlp[l] });
    all.push({ kind: 'mlp_bias', layer: l, head: null, label: `L${l} MLP bias`, value: r.mlpBias[l] });
  });
  return all.sort((a, b) => Math.abs(b.value) - Math.abs(a.value)).slice(0, n);
}
