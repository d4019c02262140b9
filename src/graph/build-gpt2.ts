// The GPT-2 forward graph: standard ONNX ops, every TransformerLens hook a named graph output, past/present KV per layer.
import type { Gpt2Checkpoint } from '../checkpoint/gpt2-checkpoint.js';
import { HOOK_SITES, hookName, type Dim as HookDim } from '../hooks/catalogue.js';
import type { ModelDims } from '../arch/model-dims.js';
import { DT, GraphBuilder, type Dim } from './onnx-builder.js';
import { addWeights, layerNorm, type Weights } from './gpt2-ops.js';
import { addEdits } from '../interventions/edit-graph.js';
import type { EditSlot } from '../interventions/types.js';

/** Graph input names. Positions are derived from the past length, so they can never disagree with the cache. */
export const INPUT_IDS = 'input_ids';
export const pastKey = (layer: number) => `past.${layer}.key`;
export const pastValue = (layer: number) => `past.${layer}.value`;
export const presentKey = (layer: number) => `present.${layer}.key`;
export const presentValue = (layer: number) => `present.${layer}.value`;

/** Symbolic dims of the graph: new tokens, cached tokens, and their sum. */
const POS = 'pos';
const PAST = 'past_pos';
const TOTAL = 'total_pos';

/** Graph dims of a catalogue hook (HOOK_SITES dim words -> numbers / symbols). */
export function hookGraphDims(dims: readonly HookDim[], d: ModelDims): Dim[] {
  const table: Record<HookDim, Dim> = {
    pos: POS,
    query_pos: POS,
    key_pos: TOTAL,
    head: d.nHead,
    kv_head: d.nHead,
    d_model: d.dModel,
    d_head: d.dHead,
    d_mlp: d.dMlp,
    d_vocab: d.dVocab,
  };
  return dims.map((w) => table[w]);
}

/**
 * Build the forward graph. `weightsLocation` is model.safetensors relative to where the .onnx file will be written
 * (onnxruntime resolves external data relative to the model file's folder). `edits` (interventions) rewrite
 * their hooks in place, their numbers coming in as extra inputs; without edits the graph is the plain one.
 */
export function buildGpt2Graph(
  ckpt: Gpt2Checkpoint,
  weightsLocation: string,
  edits: readonly EditSlot[] = [],
): Uint8Array {
  const d = ckpt.dims;
  const g = new GraphBuilder('gpt2');
  const w: Weights = addWeights(g, ckpt, weightsLocation);
  addEdits(g, edits, POS);

  // ---- inputs: ids [pos] and, per layer, past keys/values [head, past_pos, d_head] (past_pos may be 0)
  g.input(INPUT_IDS, DT.INT64, [POS]);
  for (let i = 0; i < d.nLayer; i++) {
    g.input(pastKey(i), DT.FLOAT, [d.nHead, PAST, d.dHead]);
    g.input(pastValue(i), DT.FLOAT, [d.nHead, PAST, d.dHead]);
  }

  // ---- absolute positions P .. P+T-1 (P = cached tokens) and the causal mask shared by every layer
  const c = {
    zero: g.constInt64('const/zero', [0], []),
    one: g.constInt64('const/one', [1], []),
    axis0: g.constInt64('const/axis0', [0]),
    axis1: g.constInt64('const/axis1', [1]),
    negInf: g.constFloat('const/neg_inf', [-Infinity]),
    sqrtDHead: g.constFloat('const/sqrt_d_head', [Math.sqrt(d.dHead)]),
    headsShape: g.constInt64('const/heads_shape', [-1, d.nHead, d.dHead]),
    headRepeats: g.constInt64('const/head_repeats', [1, 1, d.nHead]),
    // [head, head*d_head]: 1 where column c belongs to head h (c / d_head == h), for attn.hook_result
    headBlocks: g.constFloat(
      'const/head_blocks',
      Array.from({ length: d.nHead * d.dModel }, (_, i) =>
        Math.floor((i % d.dModel) / d.dHead) === Math.floor(i / d.dModel) ? 1 : 0,
      ),
      [d.nHead, d.dModel],
    ),
    modelShape: g.constInt64('const/model_shape', [-1, d.dModel]),
    qkvSplit: g.constInt64('const/qkv_split', [d.dModel, d.dModel, d.dModel]),
  };
  const s = 'positions';
  const nNew = g.op('Gather', [g.op('Shape', [INPUT_IDS], undefined, {}, s), c.zero], undefined, { axis: 0 }, s); // scalar T
  const nPast = g.op('Gather', [g.op('Shape', [pastKey(0)], undefined, {}, s), c.one], undefined, { axis: 0 }, s); // scalar P
  const nTotal = g.op('Add', [nPast, nNew], undefined, {}, s); // scalar P+T
  const positions = g.op('Range', [nPast, nTotal, c.one], undefined, {}, s); // [pos]: P..P+T-1
  const keyPositions = g.op('Range', [c.zero, nTotal, c.one], undefined, {}, s); // [total_pos]: 0..P+T-1
  // [1, total_pos] > [pos, 1] -> [pos, total_pos]: true where the key lies in the query's future
  const causalMask = g.op(
    'Greater',
    [
      g.op('Unsqueeze', [keyPositions, c.axis0], undefined, {}, s),
      g.op('Unsqueeze', [positions, c.axis1], undefined, {}, s),
    ],
    'causal_mask',
  );

  // ---- embeddings: [pos] -> [pos, d_model]
  g.op('Gather', [w.wte, INPUT_IDS], 'hook_embed', { axis: 0 });
  g.op('Gather', [w.wpe, positions], 'hook_pos_embed', { axis: 0 });
  let resid = g.op('Add', ['hook_embed', 'hook_pos_embed'], 'blocks.0.hook_resid_pre');

  for (let i = 0; i < d.nLayer; i++) {
    const b = `blocks.${i}`;
    const L = w.layers[i];
    // resid_pre of block i is resid_post of block i-1; a hook needs its own tensor name, hence Identity.
    if (i > 0) resid = g.op('Identity', [resid], `${b}.hook_resid_pre`);

    // ---- attention
    const ln1 = layerNorm(g, resid, L.ln1, d.layerNormEps, `${b}.ln1`); // [pos, d_model]
    // [pos, d_model] @ [d_model, 3*d_model] + [3*d_model] -> [pos, 3*d_model]
    const qkv = g.op('Add', [g.op('MatMul', [ln1, L.attnW], undefined, {}, b), L.attnB], undefined, {}, b);
    const [q, k, v] = g.node('Split', [qkv, c.qkvSplit], [`${b}/q_flat`, `${b}/k_flat`, `${b}/v_flat`], { axis: 1 }); // 3 x [pos, d_model]
    const hookQ = g.op('Reshape', [q, c.headsShape], `${b}.attn.hook_q`); // [pos, head, d_head]
    const hookK = g.op('Reshape', [k, c.headsShape], `${b}.attn.hook_k`);
    const hookV = g.op('Reshape', [v, c.headsShape], `${b}.attn.hook_v`);
    const qh = g.op('Transpose', [hookQ], undefined, { perm: [1, 0, 2] }, b); // [head, pos, d_head]
    const kh = g.op('Transpose', [hookK], undefined, { perm: [1, 0, 2] }, b);
    const vh = g.op('Transpose', [hookV], undefined, { perm: [1, 0, 2] }, b);
    // cache: [head, past_pos, d_head] ++ [head, pos, d_head] -> [head, total_pos, d_head]
    const keys = g.op('Concat', [pastKey(i), kh], presentKey(i), { axis: 1 });
    const values = g.op('Concat', [pastValue(i), vh], presentValue(i), { axis: 1 });
    // [head, pos, d_head] @ [head, d_head, total_pos] -> [head, pos, total_pos], then / sqrt(d_head) as TransformerLens
    const keysT = g.op('Transpose', [keys], undefined, { perm: [0, 2, 1] }, b);
    const scaled = g.op('Div', [g.op('MatMul', [qh, keysT], undefined, {}, b), c.sqrtDHead], undefined, {}, b);
    // masked entries are -inf (TransformerLens IGNORE), so softmax gives exact zeros there
    const scores = g.op('Where', [causalMask, c.negInf, scaled], `${b}.attn.hook_attn_scores`); // [head, pos, total_pos]
    const pattern = g.op('Softmax', [scores], `${b}.attn.hook_pattern`, { axis: -1 }); // [head, pos, total_pos]
    // [head, pos, total_pos] @ [head, total_pos, d_head] -> [head, pos, d_head] -> [pos, head, d_head]
    const zh = g.op('MatMul', [pattern, values], undefined, {}, b);
    const z = g.op('Transpose', [zh], `${b}.attn.hook_z`, { perm: [1, 0, 2] });
    // [pos, head*d_head] @ [d_model, d_model] + [d_model] -> [pos, d_model]
    const zFlat = g.op('Reshape', [z, c.modelShape], undefined, {}, b);
    const attnOut = g.op(
      'Add',
      [g.op('MatMul', [zFlat, L.attnProjW], undefined, {}, b), L.attnProjB],
      `${b}.hook_attn_out`,
    );
    const mid = g.op('Add', [resid, attnOut], `${b}.hook_resid_mid`);
    // attn.hook_result (opt-in: computed only when fetched): each head's z through its rows of W_O, without
    // reshaping the weight (which would fold into a second copy of W_O): z tiled to [pos, head, head*d_head],
    // zeroed outside head h's block, times W_O -> [pos, head, d_model]
    const zTiled = g.op('Tile', [z, c.headRepeats], undefined, {}, b); // [pos, head, head*d_head]
    const zBlocks = g.op('Mul', [zTiled, c.headBlocks], undefined, {}, b);
    g.op('MatMul', [zBlocks, L.attnProjW], `${b}.attn.hook_result`);

    // ---- MLP
    const ln2 = layerNorm(g, mid, L.ln2, d.layerNormEps, `${b}.ln2`);
    // [pos, d_model] @ [d_model, d_mlp] + [d_mlp] -> [pos, d_mlp]
    const pre = g.op('Add', [g.op('MatMul', [ln2, L.fcW], undefined, {}, b), L.fcB], `${b}.mlp.hook_pre`);
    const post = geluNew(g, pre, `${b}.mlp.hook_post`, b);
    // [pos, d_mlp] @ [d_mlp, d_model] + [d_model] -> [pos, d_model]
    const mlpOut = g.op('Add', [g.op('MatMul', [post, L.mlpProjW], undefined, {}, b), L.mlpProjB], `${b}.hook_mlp_out`);
    resid = g.op('Add', [mid, mlpOut], `${b}.hook_resid_post`);
  }

  // ---- final LayerNorm and tied unembedding: [pos, d_model] x [d_vocab, d_model]^T -> [pos, d_vocab]
  const lnF = layerNorm(g, resid, w.lnF, d.layerNormEps, 'ln_final');
  g.op('Gemm', [lnF, w.wte], 'logits', { transB: 1 }); // transB reads W_E as is: no transposed copy of the embedding

  // ---- outputs: every hook (catalogue order), then the cache
  for (const site of HOOK_SITES) {
    const layers = site.perLayer ? [...Array(d.nLayer).keys()] : [undefined];
    for (const layer of layers) g.output(hookName(site, layer), DT.FLOAT, hookGraphDims(site.dims, d));
  }
  for (let i = 0; i < d.nLayer; i++) {
    g.output(presentKey(i), DT.FLOAT, [d.nHead, TOTAL, d.dHead]);
    g.output(presentValue(i), DT.FLOAT, [d.nHead, TOTAL, d.dHead]);
  }
  return g.encode(`GPT-2 ${d.nLayer}x${d.dModel} with TransformerLens hook outputs`);
}

/** gelu_new (GPT-2's tanh approximation): 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))), same op order as TransformerLens. */
export function geluNew(g: GraphBuilder, x: string, out: string, scope: string): string {
  const k = g.constFloat(`${scope}/gelu_sqrt_2_over_pi`, [Math.sqrt(2 / Math.PI)]);
  const a = g.constFloat(`${scope}/gelu_0.044715`, [0.044715]);
  const half = g.constFloat(`${scope}/gelu_half`, [0.5]);
  const one = g.constFloat(`${scope}/gelu_one`, [1]);
  const cube = g.op('Pow', [x, g.constFloat(`${scope}/gelu_three`, [3])], undefined, {}, scope); // [pos, d_mlp]
  const inner = g.op(
    'Mul',
    [k, g.op('Add', [x, g.op('Mul', [a, cube], undefined, {}, scope)], undefined, {}, scope)],
    undefined,
    {},
    scope,
  );
  const t = g.op('Tanh', [inner], undefined, {}, scope);
  return g.op('Mul', [g.op('Mul', [half, x], undefined, {}, scope), g.op('Add', [one, t], undefined, {}, scope)], out);
}
