// Attention stages of one layer: Q/K/V per head (GQA and MLA aware), scores, mask, softmax, weighted sum, output.
import type { ArchSpec, AttentionWindow } from './spec.js';
import { data, elements, matmulFlops, stage, type BuiltStage, type StageCtx, type TensorRef } from './stage.js';

const ref = (name: string, shape: number[]): TensorRef => ({ name, shape });

/** Per-head Q/K/V projections for MHA/GQA/MQA: [seq, d_model] x [d_model, d_head] -> [seq, d_head] per head. */
function qkv(spec: ArchSpec, ctx: StageCtx, seq: number, x: TensorRef): BuiltStage[] {
  const a = spec.attention;
  const d = spec.dModel;
  const out: BuiltStage[] = [];
  const group = a.nHeads / a.nKvHeads;
  const sharing =
    a.nKvHeads === a.nHeads
      ? undefined
      : a.nKvHeads === 1
        ? `multi-query attention: this one ${'head'} is shared by all ${a.nHeads} query heads`
        : `grouped-query attention: ${a.nKvHeads} heads, each shared by ${group} query heads (query heads ${group}*j .. ${group}*j+${group - 1} use head j)`;
  for (const [key, heads, label] of [
    ['q', a.nHeads, 'Q'],
    ['k', a.nKvHeads, 'K'],
    ['v', a.nKvHeads, 'V'],
  ] as const) {
    const bias = a.qkvBias ? seq * heads * a.dHead : 0;
    out.push(
      stage(ctx, {
        key: `attn.${key}`,
        name: `${label} projection (per head)`,
        op: 'matmul',
        inputs: [x],
        weights: [
          ref(`attn.W_${label}[h]`, [d, a.dHead]),
          ...(a.qkvBias ? [ref(`attn.b_${label}[h]`, [a.dHead])] : []),
        ],
        output: ref(`${ctx.prefix}attn.hook_${key}`, data(ctx, [seq, a.dHead])),
        flops: matmulFlops(ctx, seq, d, a.dHead, heads) + elements(ctx, [bias]),
        heads,
        allHeads: { weights: [d, heads * a.dHead], output: data(ctx, [seq, heads * a.dHead]) },
        note: key === 'q' ? undefined : sharing,
      }),
    );
  }
  if (a.qkNorm) {
    for (const key of ['q', 'k'] as const) {
      const heads = key === 'q' ? a.nHeads : a.nKvHeads;
      out.push(
        stage(ctx, {
          key: `attn.${key}_norm`,
          name: `${key.toUpperCase()} norm (RMSNorm over d_head)`,
          op: 'norm',
          inputs: [ref(`${ctx.prefix}attn.hook_${key}`, data(ctx, [seq, a.dHead]))],
          weights: [ref(`attn.${key}_norm.w`, [a.dHead])],
          output: ref(`${ctx.prefix}attn.hook_${key}_normed`, data(ctx, [seq, a.dHead])),
          flops: elements(ctx, [seq, heads, a.dHead]),
          heads,
          note: 'one weight vector shared by all heads',
        }),
      );
    }
  }
  return out;
}

/** MLA (DeepSeek-V2/V3): low-rank Q, a compressed KV latent (what is cached), per-head up-projections. */
function mlaQkv(spec: ArchSpec, ctx: StageCtx, seq: number, x: TensorRef): BuiltStage[] {
  const a = spec.attention;
  const m = a.mla!;
  const d = spec.dModel;
  const qHead = m.qkNopeHeadDim + m.qkRopeHeadDim;
  const out: BuiltStage[] = [];
  let qIn = x;
  let qInWidth = d;
  if (m.qLoraRank !== null) {
    const r = m.qLoraRank;
    out.push(
      stage(ctx, {
        key: 'attn.q_a',
        name: 'Q down-projection',
        op: 'matmul',
        inputs: [x],
        weights: [ref('attn.W_Q_a', [d, r])],
        output: ref(`${ctx.prefix}attn.q_latent`, data(ctx, [seq, r])),
        flops: matmulFlops(ctx, seq, d, r),
      }),
    );
    qIn = ref(`${ctx.prefix}attn.q_latent_normed`, data(ctx, [seq, r]));
    out.push(
      stage(ctx, {
        key: 'attn.q_a_norm',
        name: 'Q latent norm',
        op: 'norm',
        inputs: [out[0]!.stage.output],
        weights: [ref('attn.q_a_norm.w', [r])],
        output: qIn,
        flops: elements(ctx, [seq, r]),
      }),
    );
    qInWidth = r;
  }
  out.push(
    stage(ctx, {
      key: 'attn.q',
      name: m.qLoraRank !== null ? 'Q up-projection (per head)' : 'Q projection (per head)',
      op: 'matmul',
      inputs: [qIn],
      weights: [ref(m.qLoraRank !== null ? 'attn.W_Q_b[h]' : 'attn.W_Q[h]', [qInWidth, qHead])],
      output: ref(`${ctx.prefix}attn.hook_q`, data(ctx, [seq, qHead])),
      flops: matmulFlops(ctx, seq, qInWidth, qHead, a.nHeads),
      heads: a.nHeads,
      allHeads: { weights: [qInWidth, a.nHeads * qHead], output: data(ctx, [seq, a.nHeads * qHead]) },
      note: `each head's query = ${m.qkNopeHeadDim} content dims + ${m.qkRopeHeadDim} rotary dims`,
    }),
  );
  const kvw = m.kvLoraRank + m.qkRopeHeadDim;
  const latent = ref(`${ctx.prefix}attn.kv_latent`, data(ctx, [seq, kvw]));
  out.push(
    stage(ctx, {
      key: 'attn.kv_a',
      name: 'KV down-projection (the KV cache)',
      op: 'matmul',
      inputs: [x],
      weights: [ref('attn.W_KV_a', [d, kvw])],
      output: latent,
      flops: matmulFlops(ctx, seq, d, kvw),
      note: `${m.kvLoraRank} latent dims + one ${m.qkRopeHeadDim}-dim rotary key shared by all heads; only this is cached`,
    }),
  );
  const latentNormed = ref(`${ctx.prefix}attn.kv_latent_normed`, data(ctx, [seq, m.kvLoraRank]));
  out.push(
    stage(ctx, {
      key: 'attn.kv_a_norm',
      name: 'KV latent norm',
      op: 'norm',
      inputs: [latent],
      weights: [ref('attn.kv_a_norm.w', [m.kvLoraRank])],
      output: latentNormed,
      flops: elements(ctx, [seq, m.kvLoraRank]),
    }),
  );
  const kvHead = m.qkNopeHeadDim + m.vHeadDim;
  out.push(
    stage(ctx, {
      key: 'attn.kv_b',
      name: 'KV up-projection (per head)',
      op: 'matmul',
      inputs: [latentNormed],
      weights: [ref('attn.W_KV_b[h]', [m.kvLoraRank, kvHead])],
      output: ref(`${ctx.prefix}attn.kv_heads`, data(ctx, [seq, kvHead])),
      flops: matmulFlops(ctx, seq, m.kvLoraRank, kvHead, a.nHeads),
      heads: a.nHeads,
      allHeads: { weights: [m.kvLoraRank, a.nHeads * kvHead], output: data(ctx, [seq, a.nHeads * kvHead]) },
      note: `split per head into K content [${m.qkNopeHeadDim}] and V [${m.vHeadDim}]; K = [content ; shared rotary key] -> [seq, ${qHead}]`,
    }),
  );
  return out;
}

/** Stages of one attention sublayer; `x` is the normalised residual [seq, d_model]. Returns stages and the output ref. */
export function attentionStages(
  spec: ArchSpec,
  ctx: StageCtx,
  seq: number,
  x: TensorRef,
  window: AttentionWindow,
): { stages: BuiltStage[]; out: TensorRef } {
  const a = spec.attention;
  const d = spec.dModel;
  const H = a.nHeads;
  const m = a.mla;
  const dQK = m ? m.qkNopeHeadDim + m.qkRopeHeadDim : a.dHead;
  const dV = m ? m.vHeadDim : a.dHead;
  const stages = m ? mlaQkv(spec, ctx, seq, x) : qkv(spec, ctx, seq, x);
  const p = ctx.prefix;

  if (spec.positions === 'rope') {
    const rot = m ? m.qkRopeHeadDim : Math.round(a.dHead * (a.ropeFraction ?? 1));
    const kHeads = m ? 1 : a.nKvHeads;
    stages.push(
      stage(ctx, {
        key: 'attn.rope',
        name: 'RoPE on Q and K',
        op: 'rope',
        inputs: [
          ref(`${p}attn.hook_q`, data(ctx, [seq, dQK])),
          ref(m ? `${p}attn.k_rope` : `${p}attn.hook_k`, data(ctx, [seq, m ? rot : dQK])),
        ],
        output: ref(`${p}attn.hook_rot_q`, data(ctx, [seq, dQK])),
        flops: elements(ctx, [seq, rot, H + kHeads]),
        heads: H,
        note: `rotates ${rot} of ${dQK} dims of every query and key by position (no parameters)${m ? '; the rotary key is shared by all heads' : ''}`,
      }),
    );
  }
  const scores = data(ctx, [seq, seq]);
  stages.push(
    stage(ctx, {
      key: 'attn.scores',
      name: 'Scores Q K^T / sqrt(d_head)',
      op: 'matmul',
      inputs: [ref(`${p}attn.hook_q`, data(ctx, [seq, dQK])), ref(`${p}attn.hook_k^T`, data(ctx, [dQK, seq]))],
      output: ref(`${p}attn.hook_attn_scores`, scores),
      flops: matmulFlops(ctx, seq, dQK, seq, H) + elements(ctx, [H, seq, seq]),
      heads: H,
      allHeads: { output: data(ctx, [H, seq, seq]) },
      note: m ? undefined : a.nKvHeads !== H ? `query head h reads K head floor(h / ${H / a.nKvHeads})` : undefined,
    }),
  );
  const maskNote =
    window.kind === 'sliding'
      ? `causal sliding window: position i sees keys max(0, i-${window.window - 1}) .. i`
      : 'causal: position i sees keys 0 .. i (later keys set to -inf)';
  stages.push(
    stage(ctx, {
      key: 'attn.mask',
      name: window.kind === 'sliding' ? 'Sliding-window causal mask' : 'Causal mask',
      op: 'mask',
      inputs: [ref(`${p}attn.hook_attn_scores`, scores)],
      output: ref(`${p}attn.hook_attn_scores`, scores),
      flops: elements(ctx, [H, seq, seq]),
      heads: H,
      note: maskNote,
    }),
  );
  stages.push(
    stage(ctx, {
      key: 'attn.softmax',
      name: 'Softmax over keys',
      op: 'softmax',
      inputs: [ref(`${p}attn.hook_attn_scores`, scores)],
      weights: a.sinks ? [ref('attn.sinks[h]', [1])] : [],
      output: ref(`${p}attn.hook_pattern`, scores),
      flops: elements(ctx, [H, seq, seq]),
      heads: H,
      note: a.sinks ? "a learned sink logit joins each row's denominator, so a row may sum to less than 1" : undefined,
    }),
  );
  stages.push(
    stage(ctx, {
      key: 'attn.z',
      name: 'Weighted sum of values',
      op: 'matmul',
      inputs: [ref(`${p}attn.hook_pattern`, scores), ref(`${p}attn.hook_v`, data(ctx, [seq, dV]))],
      output: ref(`${p}attn.hook_z`, data(ctx, [seq, dV])),
      flops: matmulFlops(ctx, seq, seq, dV, H),
      heads: H,
    }),
  );
  const concat = ref(`${p}attn.z_concat`, data(ctx, [seq, H * dV]));
  stages.push(
    stage(ctx, {
      key: 'attn.concat',
      name: 'Concatenate heads',
      op: 'concat',
      inputs: [ref(`${p}attn.hook_z`, data(ctx, [seq, dV]))],
      output: concat,
      flops: 0n,
      note: `${H} heads x [${seq}, ${dV}] side by side`,
    }),
  );
  const out = ref(`${p}hook_attn_out`, data(ctx, [seq, d]));
  stages.push(
    stage(ctx, {
      key: 'attn.o',
      name: 'Output projection',
      op: 'matmul',
      inputs: [concat],
      weights: [ref('attn.W_O', [H * dV, d]), ...(a.oBias ? [ref('attn.b_O', [d])] : [])],
      output: out,
      flops: matmulFlops(ctx, seq, H * dV, d) + (a.oBias ? elements(ctx, [seq, d]) : 0n),
    }),
  );
  return { stages, out };
}
