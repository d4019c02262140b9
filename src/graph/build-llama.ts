// The llama-family forward graph (llama, qwen2, qwen3, mistral): RMSNorm, rotary embeddings (rotate-half), grouped-query
// attention with an optional sliding window, gated SiLU MLP. Standard opset-17 ops only; every TransformerLens hook of
// LLAMA_HOOK_SITES is a named graph output; past/present KV per layer hold the rotated keys and the values of the
// key/value heads ([kv_head, pos, d_head]), so the cache is n_heads / n_kv_heads times smaller than repeated heads.
import type { LlamaCheckpoint, LlamaGraphSpec, RopeScaling } from '../checkpoint/llama-checkpoint.js';
import { hookName, LLAMA_HOOK_SITES, type Dim as HookDim } from '../hooks/catalogue.js';
import type { ModelDims } from '../arch/model-dims.js';
import { INPUT_IDS, pastKey, pastValue, presentKey, presentValue } from './build-gpt2.js';
import { LENS_K, LENS_ROWS, LENS_TOP_IDS, LENS_TOP_PROBS, LENS_TRACK_IDS, LENS_TRACKED } from './build-lens.js';
import { DT, type Dim, type ElemType, GraphBuilder } from './onnx-builder.js';

const POS = 'pos';
const PAST = 'past_pos';
const TOTAL = 'total_pos';

const ELEM: Record<string, ElemType> = { F32: DT.FLOAT, F16: DT.FLOAT16, BF16: DT.BFLOAT16 };

/** Graph dims of a catalogue hook (LLAMA_HOOK_SITES dim words -> numbers / symbols). */
export function llamaHookGraphDims(dims: readonly HookDim[], d: ModelDims): Dim[] {
  const table: Record<HookDim, Dim> = {
    pos: POS,
    query_pos: POS,
    key_pos: TOTAL,
    head: d.nHead,
    kv_head: d.nKvHeads ?? d.nHead,
    d_model: d.dModel,
    d_head: d.dHead,
    d_mlp: d.dMlp,
    d_vocab: d.dVocab,
  };
  return dims.map((w) => table[w]);
}

/**
 * RoPE inverse frequencies theta^(-2i/d_head), i < d_head/2, with HF's rope_scaling applied
 * (`linear`: / factor; `llama3`: long wavelengths / factor, short ones kept, a smooth blend in between).
 */
export function ropeInvFreq(dHead: number, theta: number, scaling: RopeScaling): number[] {
  const inv = Array.from({ length: dHead / 2 }, (_, i) => 1 / theta ** ((2 * i) / dHead));
  if (scaling.kind === 'default') return inv;
  if (scaling.kind === 'linear') return inv.map((f) => f / scaling.factor);
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositions: old } = scaling;
  const lowWavelen = old / lowFreqFactor;
  const highWavelen = old / highFreqFactor;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / factor;
    const smooth = (old / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

/** A checkpoint tensor as a float32 graph tensor (F16/BF16 cast inside the graph, folded at session creation). */
function weight(g: GraphBuilder, ckpt: LlamaCheckpoint, name: string, locations: ReadonlyMap<string, string>): string {
  const t = ckpt.tensors.get(name);
  if (!t) throw new Error(`llama graph: checkpoint has no tensor ${name}`);
  const location = locations.get(t.file) ?? t.file;
  const base = { dims: t.shape, location, offset: t.dataOffset, length: t.byteLength };
  if (t.dtype === 'F32') return g.external({ name, elemType: DT.FLOAT, ...base });
  const raw = g.external({ name: `${name}.${t.dtype}`, elemType: ELEM[t.dtype], ...base });
  return g.op('Cast', [raw], name, { to: DT.FLOAT });
}

/**
 * RMSNorm as TransformerLens writes it: scale = sqrt(mean(x^2) + eps) -> `${prefix}.hook_scale` [rows];
 * x / scale -> `${prefix}.hook_normalized`; then * w (not hooked). [rows, d] -> [rows, d].
 * `hooks` false (Qwen3's per-head q/k norm over [pos, head, d_head]): the same maths without hook outputs.
 */
function rmsNorm(g: GraphBuilder, x: string, w: string, eps: number, prefix: string, hooks = true): string {
  const e = g.constFloat(`${prefix}/eps`, [eps]);
  const meanSq = g.op(
    'ReduceMean',
    [g.op('Mul', [x, x], undefined, {}, prefix)],
    undefined,
    { axes: [-1], keepdims: 1 },
    prefix,
  ); // [rows, 1]
  const scale = g.op('Sqrt', [g.op('Add', [meanSq, e], undefined, {}, prefix)], undefined, {}, prefix); // [rows, 1]
  if (hooks) g.op('Squeeze', [scale, g.constInt64(`${prefix}/squeeze_axes`, [1])], `${prefix}.hook_scale`); // [rows]
  const normed = g.op('Div', [x, scale], hooks ? `${prefix}.hook_normalized` : undefined, {}, prefix); // [rows, d]
  return g.op('Mul', [normed, w], undefined, {}, prefix);
}

/** y = x @ W^T (+ b) for an HF nn.Linear weight [out, in]: Gemm reads W as stored, no transposed copy. */
function linear(g: GraphBuilder, x: string, w: string, b: string | undefined, out: string | undefined, scope: string) {
  return g.op('Gemm', b ? [x, w, b] : [x, w], out, { transB: 1 }, scope);
}

/** rotate_half over the last axis: [x1, x2] -> [-x2, x1] (HF's NeoX pairing: i with i + d_head/2). */
function rotateHalf(g: GraphBuilder, x: string, half: string, scope: string): string {
  const [x1, x2] = g.node('Split', [x, half], [`${x}/x1`, `${x}/x2`], { axis: -1 }, scope);
  return g.op('Concat', [g.op('Neg', [x2], undefined, {}, scope), x1], undefined, { axis: -1 }, scope);
}

/** x * cos + rotate_half(x) * sin; x [pos, heads, d_head], cos/sin [pos, 1, d_head]. */
function applyRope(g: GraphBuilder, x: string, cos: string, sin: string, half: string, out: string, scope: string) {
  const a = g.op('Mul', [x, cos], undefined, {}, scope);
  const b = g.op('Mul', [rotateHalf(g, x, half, scope), sin], undefined, {}, scope);
  return g.op('Add', [a, b], out);
}

/** Names of the weights a llama graph reads for the final norm and unembedding (shared with the lens graph). */
const unembedName = (s: LlamaGraphSpec) => (s.tied ? 'model.embed_tokens.weight' : 'lm_head.weight');

import { addEdits } from '../interventions/edit-graph.js';
import type { EditSlot } from '../interventions/types.js';

/**
 * Build the forward graph. `locations` maps each shard's file name to the name onnxruntime should open
 * (the real file behind a symlink); weights are external data, never copied.
 */
export function buildLlamaGraph(
  ckpt: LlamaCheckpoint,
  locations: ReadonlyMap<string, string>,
  edits: readonly EditSlot[] = [],
): Uint8Array {
  const d = ckpt.dims;
  const s = ckpt.spec;
  const kv = d.nKvHeads ?? d.nHead;
  const rep = d.nHead / kv;
  const g = new GraphBuilder(s.modelType);
  addEdits(g, edits, POS); // interventions rewrite their hooks in place (src/interventions/edit-graph.ts)
  const seen = new Map<string, string>(); // tied embeddings: embed_tokens is read twice, declared once
  const W = (name: string) => {
    let t = seen.get(name);
    if (t === undefined) seen.set(name, (t = weight(g, ckpt, name, locations)));
    return t;
  };
  const optW = (name: string) => (ckpt.tensors.has(name) ? W(name) : undefined);

  g.input(INPUT_IDS, DT.INT64, [POS]);
  for (let i = 0; i < d.nLayer; i++) {
    g.input(pastKey(i), DT.FLOAT, [kv, PAST, d.dHead]);
    g.input(pastValue(i), DT.FLOAT, [kv, PAST, d.dHead]);
  }

  const c = {
    zero: g.constInt64('const/zero', [0], []),
    one: g.constInt64('const/one', [1], []),
    axis0: g.constInt64('const/axis0', [0]),
    axis1: g.constInt64('const/axis1', [1]),
    negInf: g.constFloat('const/neg_inf', [-Infinity]),
    sqrtDHead: g.constFloat('const/sqrt_d_head', [Math.sqrt(d.dHead)]),
    qShape: g.constInt64('const/q_shape', [-1, d.nHead, d.dHead]),
    kvShape: g.constInt64('const/kv_shape', [-1, kv, d.dHead]),
    headsShape: g.constInt64('const/heads_shape', [d.nHead, -1, d.dHead]),
    repeat: g.constInt64('const/repeat_kv', [1, rep, 1, 1]),
    zFlat: g.constInt64('const/z_flat', [-1, d.nHead * d.dHead]),
    half: g.constInt64('const/rope_half', [d.dHead / 2, d.dHead / 2]),
    invFreq: g.constFloat('const/rope_inv_freq', ropeInvFreq(d.dHead, s.ropeTheta, s.ropeScaling), [d.dHead / 2]),
  };

  // ---- positions P .. P+T-1 (P = cached tokens), the causal mask, and one sliding-window mask per window size
  const sc = 'positions';
  const nNew = g.op('Gather', [g.op('Shape', [INPUT_IDS], undefined, {}, sc), c.zero], undefined, { axis: 0 }, sc);
  const nPast = g.op('Gather', [g.op('Shape', [pastKey(0)], undefined, {}, sc), c.one], undefined, { axis: 0 }, sc);
  const nTotal = g.op('Add', [nPast, nNew], undefined, {}, sc);
  const positions = g.op('Range', [nPast, nTotal, c.one], undefined, {}, sc); // [pos]
  const keyPositions = g.op('Range', [c.zero, nTotal, c.one], undefined, {}, sc); // [total_pos]
  const qCol = g.op('Unsqueeze', [positions, c.axis1], undefined, {}, sc); // [pos, 1]
  const kRow = g.op('Unsqueeze', [keyPositions, c.axis0], undefined, {}, sc); // [1, total_pos]
  const causal = g.op('Greater', [kRow, qCol], 'causal_mask'); // [pos, total_pos]: key in the future
  const masks = new Map<number | null, string>([[null, causal]]);
  for (const w of new Set(s.windows)) {
    if (w === null) continue;
    // HF: query i sees key j iff 0 <= i - j < window; masked when j > i or i - j >= window
    const distance = g.op('Sub', [qCol, kRow], undefined, {}, sc); // [pos, total_pos]
    const tooFar = g.op(
      'Greater',
      [distance, g.constInt64(`const/window_${w}_minus_1`, [w - 1], [])],
      undefined,
      {},
      sc,
    );
    masks.set(w, g.op('Or', [causal, tooFar], `sliding_mask_${w}`));
  }

  // ---- rotary tables: [pos, 1] * [d_head/2] -> [pos, d_head/2] -> cat -> [pos, d_head] -> [pos, 1, d_head]
  const posF = g.op('Cast', [qCol], undefined, { to: DT.FLOAT }, 'rope'); // [pos, 1]
  const freqs = g.op('Mul', [posF, c.invFreq], undefined, {}, 'rope'); // [pos, d_head/2]
  const emb = g.op(
    'Unsqueeze',
    [g.op('Concat', [freqs, freqs], undefined, { axis: -1 }, 'rope'), c.axis1],
    undefined,
    {},
    'rope',
  );
  const cos = g.op('Cos', [emb], 'rope/cos'); // [pos, 1, d_head]
  const sin = g.op('Sin', [emb], 'rope/sin');

  // ---- embedding: [pos] -> [pos, d_model]
  let resid = g.op('Gather', [W('model.embed_tokens.weight'), INPUT_IDS], 'hook_embed', { axis: 0 });
  resid = g.op('Identity', [resid], 'blocks.0.hook_resid_pre');

  for (let i = 0; i < d.nLayer; i++) {
    const b = `blocks.${i}`;
    const p = `model.layers.${i}`;
    if (i > 0) resid = g.op('Identity', [resid], `${b}.hook_resid_pre`);

    // ---- attention
    const x1 = rmsNorm(g, resid, W(`${p}.input_layernorm.weight`), d.layerNormEps, `${b}.ln1`); // [pos, d_model]
    const A = `${p}.self_attn`;
    // [pos, d_model] @ [d_model, n*d_head] (+ b) -> [pos, n*d_head] -> [pos, n, d_head]
    const qFlat = linear(g, x1, W(`${A}.q_proj.weight`), optW(`${A}.q_proj.bias`), undefined, b);
    const kFlat = linear(g, x1, W(`${A}.k_proj.weight`), optW(`${A}.k_proj.bias`), undefined, b);
    const vFlat = linear(g, x1, W(`${A}.v_proj.weight`), optW(`${A}.v_proj.bias`), undefined, b);
    const hookQ = g.op('Reshape', [qFlat, c.qShape], `${b}.attn.hook_q`); // [pos, head, d_head]
    const hookK = g.op('Reshape', [kFlat, c.kvShape], `${b}.attn.hook_k`); // [pos, kv_head, d_head]
    const hookV = g.op('Reshape', [vFlat, c.kvShape], `${b}.attn.hook_v`); // [pos, kv_head, d_head]
    // Qwen3: per-head RMSNorm over d_head before RoPE
    const qIn = s.qkNorm
      ? rmsNorm(g, hookQ, W(`${A}.q_norm.weight`), d.layerNormEps, `${b}.attn.q_norm`, false)
      : hookQ;
    const kIn = s.qkNorm
      ? rmsNorm(g, hookK, W(`${A}.k_norm.weight`), d.layerNormEps, `${b}.attn.k_norm`, false)
      : hookK;
    const rotQ = applyRope(g, qIn, cos, sin, c.half, `${b}.attn.hook_rot_q`, b); // [pos, head, d_head]
    const rotK = applyRope(g, kIn, cos, sin, c.half, `${b}.attn.hook_rot_k`, b); // [pos, kv_head, d_head]
    const qh = g.op('Transpose', [rotQ], undefined, { perm: [1, 0, 2] }, b); // [head, pos, d_head]
    const kh = g.op('Transpose', [rotK], undefined, { perm: [1, 0, 2] }, b); // [kv_head, pos, d_head]
    const vh = g.op('Transpose', [hookV], undefined, { perm: [1, 0, 2] }, b);
    // cache: [kv_head, past_pos, d_head] ++ [kv_head, pos, d_head] -> [kv_head, total_pos, d_head]
    const keys = g.op('Concat', [pastKey(i), kh], presentKey(i), { axis: 1 });
    const values = g.op('Concat', [pastValue(i), vh], presentValue(i), { axis: 1 });
    // repeat_kv: [kv_head, T, d_head] -> [kv_head, 1, T, d_head] -> [kv_head, rep, T, d_head] -> [head, T, d_head]
    // (query head h reads key/value head h // rep, as HF's repeat_kv)
    const repeatKv = (t: string) =>
      rep === 1
        ? t
        : g.op(
            'Reshape',
            [
              g.op('Expand', [g.op('Unsqueeze', [t, c.axis1], undefined, {}, b), c.repeat], undefined, {}, b),
              c.headsShape,
            ],
            undefined,
            {},
            b,
          );
    const keysH = repeatKv(keys);
    const valuesH = repeatKv(values);
    // [head, pos, d_head] @ [head, d_head, total_pos] -> [head, pos, total_pos], / sqrt(d_head)
    const keysT = g.op('Transpose', [keysH], undefined, { perm: [0, 2, 1] }, b);
    const scaled = g.op('Div', [g.op('MatMul', [qh, keysT], undefined, {}, b), c.sqrtDHead], undefined, {}, b);
    const mask = masks.get(s.windows[i]) as string;
    const scores = g.op('Where', [mask, c.negInf, scaled], `${b}.attn.hook_attn_scores`); // [head, pos, total_pos]
    const pattern = g.op('Softmax', [scores], `${b}.attn.hook_pattern`, { axis: -1 });
    // [head, pos, total_pos] @ [head, total_pos, d_head] -> [head, pos, d_head] -> [pos, head, d_head]
    const z = g.op('Transpose', [g.op('MatMul', [pattern, valuesH], undefined, {}, b)], `${b}.attn.hook_z`, {
      perm: [1, 0, 2],
    });
    // [pos, head*d_head] @ [head*d_head, d_model] -> [pos, d_model]
    const zFlat = g.op('Reshape', [z, c.zFlat], undefined, {}, b);
    const attnOut = linear(g, zFlat, W(`${A}.o_proj.weight`), optW(`${A}.o_proj.bias`), `${b}.hook_attn_out`, b);
    const mid = g.op('Add', [resid, attnOut], `${b}.hook_resid_mid`);

    // ---- gated MLP: down(silu(gate(x)) * up(x))
    const M = `${p}.mlp`;
    const x2 = rmsNorm(g, mid, W(`${p}.post_attention_layernorm.weight`), d.layerNormEps, `${b}.ln2`);
    // [pos, d_model] @ [d_model, d_mlp] -> [pos, d_mlp]
    const pre = linear(g, x2, W(`${M}.gate_proj.weight`), optW(`${M}.gate_proj.bias`), `${b}.mlp.hook_pre`, b);
    const preLinear = linear(g, x2, W(`${M}.up_proj.weight`), optW(`${M}.up_proj.bias`), `${b}.mlp.hook_pre_linear`, b);
    const silu = g.op('Mul', [pre, g.op('Sigmoid', [pre], undefined, {}, b)], undefined, {}, b);
    const post = g.op('Mul', [silu, preLinear], `${b}.mlp.hook_post`);
    // [pos, d_mlp] @ [d_mlp, d_model] -> [pos, d_model]
    const mlpOut = linear(g, post, W(`${M}.down_proj.weight`), optW(`${M}.down_proj.bias`), `${b}.hook_mlp_out`, b);
    resid = g.op('Add', [mid, mlpOut], `${b}.hook_resid_post`);
  }

  // ---- final RMSNorm and unembedding: [pos, d_model] x [d_vocab, d_model]^T -> [pos, d_vocab]
  const xf = rmsNorm(g, resid, W('model.norm.weight'), d.layerNormEps, 'ln_final');
  g.op('Gemm', [xf, W(unembedName(s))], 'logits', { transB: 1 });

  for (const site of LLAMA_HOOK_SITES) {
    const layers = site.perLayer ? [...Array(d.nLayer).keys()] : [undefined];
    for (const layer of layers) g.output(hookName(site, layer), DT.FLOAT, llamaHookGraphDims(site.dims, d));
  }
  for (let i = 0; i < d.nLayer; i++) {
    g.output(presentKey(i), DT.FLOAT, [kv, TOTAL, d.dHead]);
    g.output(presentValue(i), DT.FLOAT, [kv, TOTAL, d.dHead]);
  }
  return g.encode(`${s.modelType} ${d.nLayer}x${d.dModel} with TransformerLens hook outputs`);
}

/** The logit lens: rows -> final RMSNorm (* w) -> unembedding -> softmax -> top-k + tracked ids (as build-lens.ts). */
export function buildLlamaLensGraph(ckpt: LlamaCheckpoint, locations: ReadonlyMap<string, string>): Uint8Array {
  const d = ckpt.dims;
  const g = new GraphBuilder(`${ckpt.spec.modelType}_logit_lens`);
  const unembed = weight(g, ckpt, unembedName(ckpt.spec), locations);
  const norm = weight(g, ckpt, 'model.norm.weight', locations);
  g.input(LENS_ROWS, DT.FLOAT, ['rows', d.dModel]);
  g.input(LENS_K, DT.INT64, [1]);
  g.input(LENS_TRACK_IDS, DT.INT64, ['tracked']);
  const normed = rmsNorm(g, LENS_ROWS, norm, d.layerNormEps, 'ln_final'); // [rows, d_model]
  const logits = g.op('Gemm', [normed, unembed], 'lens/logits', { transB: 1 }); // [rows, d_vocab]
  const probs = g.op('Softmax', [logits], 'lens/probs', { axis: -1 });
  g.node('TopK', [probs, LENS_K], [LENS_TOP_PROBS, LENS_TOP_IDS], { axis: -1, largest: 1, sorted: 1 });
  g.op('Gather', [probs, LENS_TRACK_IDS], LENS_TRACKED, { axis: 1 });
  g.output(LENS_TOP_PROBS, DT.FLOAT, ['rows', 'k']);
  g.output(LENS_TOP_IDS, DT.INT64, ['rows', 'k']);
  g.output(LENS_TRACKED, DT.FLOAT, ['rows', 'tracked']);
  return g.encode(`${ckpt.spec.modelType} ${d.nLayer}x${d.dModel} logit lens`);
}
