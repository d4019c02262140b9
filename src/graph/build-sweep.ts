// The sweep graphs: one GPT-2 block cut into three pieces with a batch axis of cells, and a last-row unembedding.
// A sweep runs many edited copies of one prompt (src/sweep/); the cells ride the batch axis, enter at the layer of
// their edit (everything below is the shared base run) and cover only the positions from their first changed one
// (the keys and values before it are the base run's, fed as `past`). The edits themselves happen between pieces.
import type { Gpt2Checkpoint } from '../checkpoint/gpt2-checkpoint.js';
import { geluNew } from './build-gpt2.js';
import { DT, GraphBuilder } from './onnx-builder.js';
import { externalWeight, layerNorm } from './gpt2-ops.js';

/** Input and output names of the sweep pieces. */
export const SWEEP_IO = {
  resid: 'resid', // attention piece input [batch, pos, d_model]
  pastKey: 'past.key', // [1, head, past_pos, d_head], shared by every cell
  pastValue: 'past.value',
  z: 'z', // attention piece output / out piece input [batch, pos, head*d_head]
  attnOut: 'attn_out', // [batch, pos, d_model]
  mid: 'resid_mid', // mlp piece input [batch, pos, d_model]
  mlpOut: 'mlp_out', // [batch, pos, d_model]
  rows: 'rows', // unembedding input [rows, d_model]
  logits: 'logits', // [rows, d_vocab]
  targetIds: 'target_ids', // [k] token ids
  targetLogits: 'target_logits', // [rows, k]: the logits of target_ids only (a logit difference needs no more)
} as const;

const B = 'batch';
const POS = 'pos';
const PAST = 'past_pos';

/** Attention of block `layer`: resid [batch, pos, d_model] (+ shared past keys/values) -> z [batch, pos, head*d_head]. */
export function buildSweepAttention(ckpt: Gpt2Checkpoint, location: string, layer: number): Uint8Array {
  const d = ckpt.dims;
  const g = new GraphBuilder(`gpt2_sweep_attn_${layer}`);
  const W = (n: string) => externalWeight(g, ckpt, `h.${layer}.${n}`, location);
  const s = 'attn';
  g.input(SWEEP_IO.resid, DT.FLOAT, [B, POS, d.dModel]);
  g.input(SWEEP_IO.pastKey, DT.FLOAT, [1, d.nHead, PAST, d.dHead]);
  g.input(SWEEP_IO.pastValue, DT.FLOAT, [1, d.nHead, PAST, d.dHead]);
  const c = {
    zero: g.constInt64('const/zero', [0], []),
    one: g.constInt64('const/one', [1], []),
    two: g.constInt64('const/two', [2], []),
    axis0: g.constInt64('const/axis0', [0]),
    axis1: g.constInt64('const/axis1', [1]),
    ones3: g.constInt64('const/ones3', [1, 1, 1]),
    negInf: g.constFloat('const/neg_inf', [-Infinity]),
    sqrtDHead: g.constFloat('const/sqrt_d_head', [Math.sqrt(d.dHead)]),
    headsShape: g.constInt64('const/heads_shape', [0, 0, d.nHead, d.dHead]),
    flatShape: g.constInt64('const/flat_shape', [0, 0, d.nHead * d.dHead]),
    qkvSplit: g.constInt64('const/qkv_split', [d.dModel, d.dModel, d.dModel]),
  };
  // positions P..P+T-1 of the new rows, keys 0..P+T-1, and the causal mask [pos, past_pos + pos]
  const shape = g.op('Shape', [SWEEP_IO.resid], undefined, {}, s);
  const nBatch = g.op('Gather', [shape, c.axis0], undefined, { axis: 0 }, s); // [1]
  const nNew = g.op('Gather', [shape, c.one], undefined, { axis: 0 }, s); // scalar T
  const nPast = g.op('Gather', [g.op('Shape', [SWEEP_IO.pastKey], undefined, {}, s), c.two], undefined, { axis: 0 }, s);
  const nTotal = g.op('Add', [nPast, nNew], undefined, {}, s);
  const positions = g.op('Range', [nPast, nTotal, c.one], undefined, {}, s); // [pos]
  const keyPositions = g.op('Range', [c.zero, nTotal, c.one], undefined, {}, s); // [total_pos]
  const mask = g.op(
    'Greater',
    [
      g.op('Unsqueeze', [keyPositions, c.axis0], undefined, {}, s),
      g.op('Unsqueeze', [positions, c.axis1], undefined, {}, s),
    ],
    undefined,
    {},
    s,
  ); // [pos, total_pos]: true where the key is in the query's future

  const ln1 = layerNorm(
    g,
    SWEEP_IO.resid,
    { w: W('ln_1.weight'), b: W('ln_1.bias') },
    d.layerNormEps,
    `blocks.${layer}.ln1`,
    false,
  ); // [batch, pos, d_model]
  // [batch, pos, d_model] @ [d_model, 3*d_model] + [3*d_model] -> [batch, pos, 3*d_model]
  const qkv = g.op(
    'Add',
    [g.op('MatMul', [ln1, W('attn.c_attn.weight')], undefined, {}, s), W('attn.c_attn.bias')],
    undefined,
    {},
    s,
  );
  const [q, k, v] = g.node('Split', [qkv, c.qkvSplit], ['q_flat', 'k_flat', 'v_flat'], { axis: 2 }); // 3 x [batch, pos, d_model]
  // [batch, pos, d_model] -> [batch, pos, head, d_head] -> [batch, head, pos, d_head]
  const heads = (x: string) =>
    g.op('Transpose', [g.op('Reshape', [x, c.headsShape], undefined, {}, s)], undefined, { perm: [0, 2, 1, 3] }, s);
  const qh = heads(q);
  // the shared past [1, head, past_pos, d_head] expanded over the cells, then ++ the new keys/values
  const expandTo = g.op('Concat', [nBatch, c.ones3], undefined, { axis: 0 }, s); // [4]: batch, 1, 1, 1
  const keys = g.op(
    'Concat',
    [g.op('Expand', [SWEEP_IO.pastKey, expandTo], undefined, {}, s), heads(k)],
    undefined,
    { axis: 2 },
    s,
  ); // [batch, head, total_pos, d_head]
  const values = g.op(
    'Concat',
    [g.op('Expand', [SWEEP_IO.pastValue, expandTo], undefined, {}, s), heads(v)],
    undefined,
    { axis: 2 },
    s,
  );
  // [batch, head, pos, d_head] @ [batch, head, d_head, total_pos] -> [batch, head, pos, total_pos] / sqrt(d_head)
  const keysT = g.op('Transpose', [keys], undefined, { perm: [0, 1, 3, 2] }, s);
  const scaled = g.op('Div', [g.op('MatMul', [qh, keysT], undefined, {}, s), c.sqrtDHead], undefined, {}, s);
  const pattern = g.op(
    'Softmax',
    [g.op('Where', [mask, c.negInf, scaled], undefined, {}, s)],
    undefined,
    { axis: -1 },
    s,
  );
  // [batch, head, pos, total_pos] @ [batch, head, total_pos, d_head] -> [batch, head, pos, d_head] -> [batch, pos, head*d_head]
  const zh = g.op('MatMul', [pattern, values], undefined, {}, s);
  const z = g.op('Transpose', [zh], undefined, { perm: [0, 2, 1, 3] }, s);
  g.op('Reshape', [z, c.flatShape], SWEEP_IO.z);
  g.output(SWEEP_IO.z, DT.FLOAT, [B, POS, d.nHead * d.dHead]);
  return g.encode(`GPT-2 sweep attention, block ${layer}`);
}

/** W_O of block `layer`: z [batch, pos, head*d_head] -> attn_out [batch, pos, d_model]. */
export function buildSweepAttnOut(ckpt: Gpt2Checkpoint, location: string, layer: number): Uint8Array {
  const d = ckpt.dims;
  const g = new GraphBuilder(`gpt2_sweep_attn_out_${layer}`);
  const W = (n: string) => externalWeight(g, ckpt, `h.${layer}.${n}`, location);
  g.input(SWEEP_IO.z, DT.FLOAT, [B, POS, d.dModel]);
  // [batch, pos, d_model] @ [d_model, d_model] + [d_model]
  g.op(
    'Add',
    [g.op('MatMul', [SWEEP_IO.z, W('attn.c_proj.weight')], undefined, {}, 'out'), W('attn.c_proj.bias')],
    SWEEP_IO.attnOut,
  );
  g.output(SWEEP_IO.attnOut, DT.FLOAT, [B, POS, d.dModel]);
  return g.encode(`GPT-2 sweep attention output, block ${layer}`);
}

/** MLP of block `layer`: resid_mid [batch, pos, d_model] -> mlp_out [batch, pos, d_model]. */
export function buildSweepMlp(ckpt: Gpt2Checkpoint, location: string, layer: number): Uint8Array {
  const d = ckpt.dims;
  const g = new GraphBuilder(`gpt2_sweep_mlp_${layer}`);
  const W = (n: string) => externalWeight(g, ckpt, `h.${layer}.${n}`, location);
  const s = 'mlp';
  g.input(SWEEP_IO.mid, DT.FLOAT, [B, POS, d.dModel]);
  const ln2 = layerNorm(
    g,
    SWEEP_IO.mid,
    { w: W('ln_2.weight'), b: W('ln_2.bias') },
    d.layerNormEps,
    `blocks.${layer}.ln2`,
    false,
  );
  // [batch, pos, d_model] @ [d_model, d_mlp] + [d_mlp] -> [batch, pos, d_mlp]
  const pre = g.op('Add', [g.op('MatMul', [ln2, W('mlp.c_fc.weight')], undefined, {}, s), W('mlp.c_fc.bias')], 'pre');
  const post = geluNew(g, pre, 'post', s);
  // [batch, pos, d_mlp] @ [d_mlp, d_model] + [d_model] -> [batch, pos, d_model]
  g.op(
    'Add',
    [g.op('MatMul', [post, W('mlp.c_proj.weight')], undefined, {}, s), W('mlp.c_proj.bias')],
    SWEEP_IO.mlpOut,
  );
  g.output(SWEEP_IO.mlpOut, DT.FLOAT, [B, POS, d.dModel]);
  return g.encode(`GPT-2 sweep MLP, block ${layer}`);
}

/** ln_final + tied unembedding of the cells' last rows: [rows, d_model] -> [rows, d_vocab]. */
export function buildSweepUnembed(ckpt: Gpt2Checkpoint, location: string): Uint8Array {
  const d = ckpt.dims;
  const g = new GraphBuilder('gpt2_sweep_unembed');
  const ln = {
    w: externalWeight(g, ckpt, 'ln_f.weight', location),
    b: externalWeight(g, ckpt, 'ln_f.bias', location),
  };
  g.input(SWEEP_IO.rows, DT.FLOAT, ['rows', d.dModel]);
  g.input(SWEEP_IO.targetIds, DT.INT64, ['k']);
  const normed = layerNorm(g, SWEEP_IO.rows, ln, d.layerNormEps, 'ln_final', false);
  const wte = externalWeight(g, ckpt, 'wte.weight', location);
  // [rows, d_model] x [d_vocab, d_model]^T -> [rows, d_vocab]
  g.op('Gemm', [normed, wte], SWEEP_IO.logits, { transB: 1 });
  // [rows, d_model] x [k, d_model]^T -> [rows, k]: only the rows of W_E the metric reads (fetched alone, the
  // full product above is not computed)
  const picked = g.op('Gather', [wte, SWEEP_IO.targetIds], undefined, { axis: 0 }, 'target');
  g.op('Gemm', [normed, picked], SWEEP_IO.targetLogits, { transB: 1 });
  g.output(SWEEP_IO.logits, DT.FLOAT, ['rows', d.dVocab]);
  g.output(SWEEP_IO.targetLogits, DT.FLOAT, ['rows', 'k']);
  return g.encode('GPT-2 sweep unembedding');
}
