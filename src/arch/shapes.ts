// The shape flow of one forward pass: ordered stages for each distinct layer kind, with exact FLOP totals.
import { badRequest } from '../errors/problem-error.js';
import { groupLayers } from './layer-groups.js';
import { attentionStages } from './shapes-attention.js';
import { denseMlpStages, moeStages } from './shapes-mlp.js';
import type { ArchSpec, LayerKind } from './spec.js';
import {
  data,
  elements,
  matmulFlops,
  stage,
  FLOP_CONVENTION,
  type BuiltStage,
  type Stage,
  type StageCtx,
  type TensorRef,
} from './stage.js';

/** The walk-through pads the prompt to GPT-2's 1024-token context. */
export const DEFAULT_SEQ_LEN = 1024;
export const MAX_BATCH = 1024;

export interface ShapesOptions {
  seqLen?: number;
  batch?: number;
}

export interface ShapeLayerGroup {
  id: string;
  layers: string;
  count: number;
  representative: number;
  mlp: 'dense' | 'moe';
  attention: 'global' | 'sliding';
  sliding_window: number | null;
  /** FLOPs of one layer of this group. */
  flops_per_layer: number;
}

export interface ShapesReport {
  seq_len: number;
  batch: number;
  max_positions: number;
  layer_groups: ShapeLayerGroup[];
  stages: Stage[];
  totals: {
    /** All stages, every layer counted (group stages x count). */
    forward_flops: number;
    /** forward_flops as an exact decimal string (exact even above 2^53). */
    forward_flops_exact: string;
    matmul_flops: number;
    /** forward_flops / (batch * seq_len). */
    flops_per_token: number;
    /** If the unembedding ran for every position (as /trace and training do) instead of the last row only. */
    forward_flops_all_positions_logits: number;
  };
  flop_convention: string;
}

const ref = (name: string, shape: number[]): TensorRef => ({ name, shape });

function norm(spec: ArchSpec, ctx: StageCtx, key: string, label: string, x: TensorRef, out: string): BuiltStage {
  const d = spec.dModel;
  const kind = spec.norm === 'layernorm' ? 'LayerNorm' : spec.normPlusOne ? 'RMSNorm (x * (1 + w))' : 'RMSNorm';
  return stage(ctx, {
    key,
    name: `${label} (${kind})`,
    op: 'norm',
    inputs: [x],
    weights: [ref(`${key}.w`, [d]), ...(spec.norm === 'layernorm' ? [ref(`${key}.b`, [d])] : [])],
    output: ref(`${ctx.prefix}${out}`, x.shape),
    flops: elements(ctx, [x.shape.reduce((a, b) => a * b, 1) / ctx.batch]),
  });
}

function add(ctx: StageCtx, key: string, name: string, a: TensorRef, b: TensorRef, out: string): BuiltStage {
  return stage(ctx, {
    key,
    name,
    op: 'add',
    inputs: [a, b],
    output: ref(`${ctx.prefix}${out}`, a.shape),
    flops: elements(ctx, [a.shape.reduce((x, y) => x * y, 1) / ctx.batch]),
  });
}

/** One block of the given kind, from hook_resid_pre to hook_resid_post. */
function layerStages(spec: ArchSpec, ctx: StageCtx, seq: number, kind: LayerKind): BuiltStage[] {
  const d = spec.dModel;
  const resid = ref(`${ctx.prefix}hook_resid_pre`, data(ctx, [seq, d]));
  const out: BuiltStage[] = [];
  const post = spec.normPlacement === 'post';
  const mlpOf = (x: TensorRef) =>
    kind.mlp === 'moe' && spec.moe ? moeStages(spec, ctx, seq, x) : denseMlpStages(spec, ctx, seq, x);

  if (post) {
    // GPT-1: x = ln_1(x + attn(x)); x = ln_2(x + mlp(x)).
    const attn = attentionStages(spec, ctx, seq, resid, kind.attention);
    out.push(...attn.stages);
    const mid = add(ctx, 'resid_mid', 'Residual add', resid, attn.out, 'hook_resid_mid');
    const ln1 = norm(spec, ctx, 'ln1', 'Norm after attention', mid.stage.output, 'ln1.hook_normalized');
    const mlp = mlpOf(ln1.stage.output);
    const sum = add(ctx, 'resid_post', 'Residual add', ln1.stage.output, mlp.out, 'hook_resid_post_prenorm');
    const ln2 = norm(spec, ctx, 'ln2', 'Norm after MLP', sum.stage.output, 'hook_resid_post');
    return [...out, mid, ln1, ...mlp.stages, sum, ln2];
  }
  const ln1 = norm(spec, ctx, 'ln1', 'Norm before attention', resid, 'ln1.hook_normalized');
  const attn = attentionStages(spec, ctx, seq, ln1.stage.output, kind.attention);
  out.push(ln1, ...attn.stages);
  let attnOut = attn.out;
  if (spec.normPlacement === 'sandwich') {
    const s = norm(spec, ctx, 'ln1_post', 'Norm after attention', attnOut, 'ln1_post.hook_normalized');
    out.push(s);
    attnOut = s.stage.output;
  }
  const mid = add(ctx, 'resid_mid', 'Residual add', resid, attnOut, 'hook_resid_mid');
  const ln2 = norm(spec, ctx, 'ln2', 'Norm before MLP', mid.stage.output, 'ln2.hook_normalized');
  out.push(mid, ln2);
  const mlp = mlpOf(ln2.stage.output);
  out.push(...mlp.stages);
  let mlpOut = mlp.out;
  if (spec.normPlacement === 'sandwich') {
    const s = norm(spec, ctx, 'ln2_post', 'Norm after MLP', mlpOut, 'ln2_post.hook_normalized');
    out.push(s);
    mlpOut = s.stage.output;
  }
  out.push(add(ctx, 'resid_post', 'Residual add', mid.stage.output, mlpOut, 'hook_resid_post'));
  return out;
}

/** Throws 400 seq_len_too_long / invalid_batch; otherwise the full flow. */
export function shapeFlow(spec: ArchSpec, opts: ShapesOptions = {}): ShapesReport {
  const seq = opts.seqLen ?? Math.min(DEFAULT_SEQ_LEN, spec.maxPositions);
  const batch = opts.batch ?? 1;
  if (seq > spec.maxPositions) {
    throw badRequest(
      'seq_len_too_long',
      `seq_len ${seq} is longer than this model's context of ${spec.maxPositions} positions; use at most ${spec.maxPositions}.`,
      { limit: spec.maxPositions },
    );
  }
  if (!Number.isInteger(seq) || seq < 1)
    throw badRequest('invalid_seq_len', 'seq_len must be a whole number of at least 1.');
  if (!Number.isInteger(batch) || batch < 1 || batch > MAX_BATCH)
    throw badRequest('invalid_batch', `batch must be a whole number from 1 to ${MAX_BATCH}.`);
  const { dModel: d, vocabSize: V } = spec;
  const top: StageCtx = { batch, layer: null, group: null, prefix: '' };
  const pre: BuiltStage[] = [];
  const tokens = ref('tokens', [batch, seq]);
  pre.push(
    stage(top, {
      key: 'tokenize',
      name: 'Tokenize',
      op: 'tokenize',
      output: tokens,
      flops: 0n,
      note: `text -> ${seq} token ids per sequence (shorter prompts are padded to seq_len)`,
    }),
  );
  const embed = ref('hook_embed', data(top, [seq, d]));
  pre.push(
    stage(top, {
      key: 'embed',
      name: 'Token embedding lookup',
      op: 'lookup',
      inputs: [ref('token_ids', data(top, [seq]))],
      weights: [ref('embed.W_E', [V, d])],
      output: embed,
      flops: spec.embedScale ? elements(top, [seq, d]) : 0n,
      note: spec.embedScale ? 'rows are multiplied by sqrt(d_model)' : 'one row of W_E per token id',
    }),
  );
  let resid = embed;
  if (spec.positions === 'learned') {
    resid = ref('blocks.0.hook_resid_pre', data(top, [seq, d]));
    pre.push(
      stage(top, {
        key: 'pos_embed',
        name: 'Add learned position embedding',
        op: 'add',
        inputs: [embed, ref('hook_pos_embed', data(top, [seq, d]))],
        weights: [ref('pos_embed.W_pos', [spec.maxPositions, d])],
        output: resid,
        flops: elements(top, [seq, d]),
        note: `rows 0..${seq - 1} of W_pos`,
      }),
    );
  }

  const groups = groupLayers(spec.layers, true);
  const layerGroups: ShapeLayerGroup[] = [];
  const layerBuilt: { built: BuiltStage[]; count: number }[] = [];
  for (const g of groups) {
    const i = g.indices[0]!;
    const ctx: StageCtx = { batch, layer: i, group: g.id, prefix: `blocks.${i}.` };
    const built = layerStages(spec, ctx, seq, g.kind);
    const per = built.reduce((a, s) => a + s.flops, 0n);
    layerBuilt.push({ built, count: g.indices.length });
    const w = g.kind.attention;
    layerGroups.push({
      id: g.id,
      layers: g.ranges,
      count: g.indices.length,
      representative: i,
      mlp: g.kind.mlp,
      attention: w.kind,
      sliding_window: w.kind === 'sliding' ? w.window : null,
      flops_per_layer: Number(per),
    });
  }

  const post: BuiltStage[] = [];
  let last = ref(`blocks.${spec.nLayers - 1}.hook_resid_post`, data(top, [seq, d]));
  if (spec.finalNorm) {
    const n = norm(spec, top, 'ln_final', 'Final norm', last, 'ln_final.hook_normalized');
    post.push(n);
    last = n.stage.output;
  }
  const row = ref('last_row', data(top, [d]));
  post.push(
    stage(top, {
      key: 'last_row',
      name: 'Take the last row',
      op: 'slice',
      inputs: [last],
      output: row,
      flops: 0n,
      note: 'only the last position predicts the next token',
    }),
  );
  // Tied: show the stored embedding table itself (as the walk-through does); it is used transposed.
  const unembedW = spec.tiedEmbeddings ? ref('embed.W_E', [V, d]) : ref('unembed.W_U', [d, V]);
  post.push(
    stage(top, {
      key: 'unembed',
      name: 'Unembedding',
      op: 'matmul',
      inputs: [row],
      weights: [unembedW],
      output: ref('logits', data(top, [V])),
      flops: matmulFlops(top, 1, d, V),
      note: spec.tiedEmbeddings
        ? `tied: reuses the embedding table embed.W_E [${V}, ${d}], transposed: [${d}] x [${d}, ${V}]`
        : 'a separate LM head (not tied to the embedding)',
    }),
  );
  post.push(
    stage(top, {
      key: 'next_token',
      name: 'Pick the next token',
      op: 'argmax',
      inputs: [ref('logits', data(top, [V]))],
      output: ref('next_token', data(top, [1])),
      flops: 0n,
      note: 'greedy argmax; sampling draws from softmax(logits / temperature) instead',
    }),
  );

  const sum = (xs: BuiltStage[]) => xs.reduce((a, s) => a + s.flops, 0n);
  const matmul = (xs: BuiltStage[]) => xs.reduce((a, s) => a + (s.stage.op === 'matmul' ? s.flops : 0n), 0n);
  let total = sum(pre) + sum(post);
  let mm = matmul(pre) + matmul(post);
  for (const l of layerBuilt) {
    total += sum(l.built) * BigInt(l.count);
    mm += matmul(l.built) * BigInt(l.count);
  }
  const allLogits = total + matmulFlops(top, seq - 1, d, V);
  return {
    seq_len: seq,
    batch,
    max_positions: spec.maxPositions,
    layer_groups: layerGroups,
    stages: [...pre, ...layerBuilt.flatMap((l) => l.built), ...post].map((s) => s.stage),
    totals: {
      forward_flops: Number(total),
      forward_flops_exact: total.toString(),
      matmul_flops: Number(mm),
      flops_per_token: Number(total) / (batch * seq),
      forward_flops_all_positions_logits: Number(allLogits),
    },
    flop_convention: FLOP_CONVENTION,
  };
}
