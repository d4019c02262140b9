// The parameter tensors of an ArchSpec: a global list and one list per layer kind, TransformerLens-style names.
// Shapes are in x @ W orientation ([in, out]); attention weights are per head like TL's W_Q [n_heads, d_model, d_head].
import type { ArchSpec, LayerKind } from './spec.js';

export type Component =
  | 'token_embedding'
  | 'position_embedding'
  | 'attention'
  | 'mlp'
  | 'routed_experts'
  | 'shared_experts'
  | 'router'
  | 'norm'
  | 'final_norm'
  | 'lm_head';

/** weight: a matrix used in a matmul; bias / norm: vectors; other: e.g. attention sinks. */
export type Role = 'weight' | 'bias' | 'norm' | 'other';

export interface ParamTensor {
  name: string;
  shape: number[];
  /** Elements stored for this tensor (0 for a head tied to the embedding). */
  count: number;
  component: Component;
  role: Role;
  note?: string;
}

const prod = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function t(name: string, shape: number[], component: Component, role: Role, note?: string): ParamTensor {
  return note === undefined
    ? { name, shape, count: prod(shape), component, role }
    : { name, shape, count: prod(shape), component, role, note };
}

/** A norm's parameters: weight, plus bias for LayerNorm. */
function norm(spec: ArchSpec, name: string, width: number, component: Component = 'norm'): ParamTensor[] {
  const out = [t(`${name}.w`, [width], component, 'norm', spec.normPlusOne ? 'applied as x * (1 + w)' : undefined)];
  if (spec.norm === 'layernorm') out.push(t(`${name}.b`, [width], component, 'norm'));
  return out;
}

function attentionTensors(spec: ArchSpec): ParamTensor[] {
  const a = spec.attention;
  const d = spec.dModel;
  const out: ParamTensor[] = [];
  if (a.mla) {
    const m = a.mla;
    const qHead = m.qkNopeHeadDim + m.qkRopeHeadDim;
    if (m.qLoraRank === null) {
      out.push(t('attn.W_Q', [a.nHeads, d, qHead], 'attention', 'weight'));
    } else {
      out.push(t('attn.W_Q_a', [d, m.qLoraRank], 'attention', 'weight', 'query down-projection to q_lora_rank'));
      if (a.qkvBias) out.push(t('attn.b_Q_a', [m.qLoraRank], 'attention', 'bias'));
      out.push(...norm(spec, 'attn.q_a_norm', m.qLoraRank, 'attention'));
      out.push(
        t(
          'attn.W_Q_b',
          [a.nHeads, m.qLoraRank, qHead],
          'attention',
          'weight',
          'query up-projection (nope + rope parts)',
        ),
      );
    }
    out.push(
      t(
        'attn.W_KV_a',
        [d, m.kvLoraRank + m.qkRopeHeadDim],
        'attention',
        'weight',
        'joint KV down-projection plus the shared rope key',
      ),
    );
    if (a.qkvBias) out.push(t('attn.b_KV_a', [m.kvLoraRank + m.qkRopeHeadDim], 'attention', 'bias'));
    out.push(...norm(spec, 'attn.kv_a_norm', m.kvLoraRank, 'attention'));
    out.push(
      t(
        'attn.W_KV_b',
        [a.nHeads, m.kvLoraRank, m.qkNopeHeadDim + m.vHeadDim],
        'attention',
        'weight',
        'KV up-projection to per-head keys (nope) and values',
      ),
    );
    out.push(t('attn.W_O', [a.nHeads, m.vHeadDim, d], 'attention', 'weight'));
    if (a.oBias) out.push(t('attn.b_O', [d], 'attention', 'bias'));
    return out;
  }
  out.push(t('attn.W_Q', [a.nHeads, d, a.dHead], 'attention', 'weight'));
  out.push(t('attn.W_K', [a.nKvHeads, d, a.dHead], 'attention', 'weight'));
  out.push(t('attn.W_V', [a.nKvHeads, d, a.dHead], 'attention', 'weight'));
  if (a.qkvBias) {
    out.push(t('attn.b_Q', [a.nHeads, a.dHead], 'attention', 'bias'));
    out.push(t('attn.b_K', [a.nKvHeads, a.dHead], 'attention', 'bias'));
    out.push(t('attn.b_V', [a.nKvHeads, a.dHead], 'attention', 'bias'));
  }
  if (a.qkNorm)
    out.push(...norm(spec, 'attn.q_norm', a.dHead, 'attention'), ...norm(spec, 'attn.k_norm', a.dHead, 'attention'));
  out.push(t('attn.W_O', [a.nHeads, a.dHead, d], 'attention', 'weight'));
  if (a.oBias) out.push(t('attn.b_O', [d], 'attention', 'bias'));
  if (a.sinks)
    out.push(
      t(
        'attn.sinks',
        [a.nHeads],
        'attention',
        'other',
        'one learned sink logit per head, added to the softmax denominator',
      ),
    );
  return out;
}

/** A (possibly gated) MLP of width `w`; prefix e.g. "mlp", "mlp.shared"; experts > 0 stacks the weights. */
function mlpTensors(
  prefix: string,
  d: number,
  w: number,
  gated: boolean,
  bias: boolean,
  component: Component,
  experts = 0,
): ParamTensor[] {
  const lead = experts > 0 ? [experts] : [];
  const out: ParamTensor[] = [];
  if (gated) out.push(t(`${prefix}.W_gate`, [...lead, d, w], component, 'weight'));
  out.push(t(`${prefix}.W_in`, [...lead, d, w], component, 'weight'));
  if (bias) {
    if (gated) out.push(t(`${prefix}.b_gate`, [...lead, w], component, 'bias'));
    out.push(t(`${prefix}.b_in`, [...lead, w], component, 'bias'));
  }
  out.push(t(`${prefix}.W_out`, [...lead, w, d], component, 'weight'));
  if (bias) out.push(t(`${prefix}.b_out`, [...lead, d], component, 'bias'));
  return out;
}

function moeTensors(spec: ArchSpec): ParamTensor[] {
  const m = spec.moe!;
  const d = spec.dModel;
  const out = [t('mlp.router.W', [d, m.nExperts], 'router', 'weight')];
  if (m.routerBias) out.push(t('mlp.router.b', [m.nExperts], 'router', 'bias'));
  out.push(...mlpTensors('mlp.experts', d, m.dExpert, true, m.expertBias, 'routed_experts', m.nExperts));
  if (m.dShared > 0) {
    out.push(...mlpTensors('mlp.shared', d, m.dShared, true, false, 'shared_experts'));
    if (m.sharedGate)
      out.push(t('mlp.shared_gate.W', [d, 1], 'shared_experts', 'weight', 'sigmoid gate scaling the shared expert'));
  }
  return out;
}

/** Tensors of one layer of the given kind (the sliding window does not change parameters). */
export function layerTensors(spec: ArchSpec, kind: LayerKind): ParamTensor[] {
  const out = [...norm(spec, 'ln1', spec.dModel), ...attentionTensors(spec)];
  if (spec.normPlacement === 'sandwich') out.push(...norm(spec, 'ln1_post', spec.dModel));
  out.push(...norm(spec, 'ln2', spec.dModel));
  if (kind.mlp === 'moe' && spec.moe) out.push(...moeTensors(spec));
  else out.push(...mlpTensors('mlp', spec.dModel, spec.mlp.dMlp, spec.mlp.kind === 'gated', spec.mlp.bias, 'mlp'));
  if (spec.normPlacement === 'sandwich') out.push(...norm(spec, 'ln2_post', spec.dModel));
  return out;
}

/** Embeddings, final norm and unembedding. */
export function globalTensors(spec: ArchSpec): ParamTensor[] {
  const { vocabSize: v, dModel: d } = spec;
  const out = [
    t(
      'embed.W_E',
      [v, d],
      'token_embedding',
      'weight',
      spec.embedScale ? 'rows are multiplied by sqrt(d_model) on lookup' : undefined,
    ),
  ];
  if (spec.positions === 'learned')
    out.push(t('pos_embed.W_pos', [spec.maxPositions, d], 'position_embedding', 'weight'));
  if (spec.finalNorm) out.push(...norm(spec, 'ln_final', d, 'final_norm'));
  if (spec.tiedEmbeddings)
    out.push({
      name: 'unembed.W_U',
      shape: [d, v],
      count: 0,
      component: 'lm_head',
      role: 'weight',
      note: 'tied: reuses embed.W_E transposed, counted once',
    });
  else out.push(t('unembed.W_U', [d, v], 'lm_head', 'weight'));
  return out;
}

/** One DeepSeek-V3 multi-token-prediction module, without the embedding and head it shares with the main model. */
export function mtpTensors(spec: ArchSpec): ParamTensor[] {
  const d = spec.dModel;
  const kind: LayerKind = { mlp: spec.moe ? 'moe' : 'dense', attention: { kind: 'global' } };
  return [
    ...norm(spec, 'mtp.enorm', d),
    ...norm(spec, 'mtp.hnorm', d),
    t('mtp.eh_proj.W', [2 * d, d], 'mlp', 'weight', 'projects [normed embedding ; normed hidden] back to d_model'),
    ...layerTensors(spec, kind).map((p) => ({ ...p, name: `mtp.block.${p.name}` })),
    ...norm(spec, 'mtp.shared_head.norm', d),
  ];
}

export const sumCounts = (ts: readonly ParamTensor[]) => ts.reduce((a, p) => a + p.count, 0);
