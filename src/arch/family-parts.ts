// Building blocks shared by the per-family rules: the RoPE-decoder core, sliding windows, MoE placement.
import type { ConfigReader } from './config-reader.js';
import type { ArchSpec, AttentionSpec, AttentionWindow, LayerKind, MlpSpec, MoeSpec } from './spec.js';

/** Everything normalize() fills in except modelType and notes. */
export type Built = Omit<ArchSpec, 'modelType' | 'notes'>;

/** The HF-style core every RoPE decoder shares. */
export interface Core {
  vocabSize: number;
  dModel: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  dHead: number;
  maxPositions: number;
}

export function core(r: ConfigReader): Core {
  const dModel = r.int('hidden_size');
  const nHeads = r.int('num_attention_heads');
  const nKvHeads = r.intOr('num_key_value_heads', nHeads);
  r.require(
    nKvHeads <= nHeads && nHeads % nKvHeads === 0,
    'num_key_value_heads',
    `must divide num_attention_heads (${nHeads}).`,
  );
  const given = r.optInt('head_dim');
  if (given === undefined)
    r.require(
      dModel % nHeads === 0,
      'head_dim',
      `is required when hidden_size is not a multiple of num_attention_heads.`,
    );
  return {
    vocabSize: r.int('vocab_size'),
    dModel,
    nLayers: r.int('num_hidden_layers'),
    nHeads,
    nKvHeads,
    dHead: given ?? dModel / nHeads,
    maxPositions: r.int('max_position_embeddings'),
  };
}

export const GLOBAL: AttentionWindow = { kind: 'global' };

/** Sliding/global per layer: HF `layer_types` when present, else the family's rule `isSliding(i)`. */
export function windows(
  r: ConfigReader,
  n: number,
  window: number | undefined,
  isSliding: (i: number) => boolean,
): AttentionWindow[] {
  const types = r.strList('layer_types');
  if (types) {
    r.require(types.length === n, 'layer_types', `must list one entry per layer (${n}).`);
    r.require(
      types.every((t) => t === 'sliding_attention' || t === 'full_attention'),
      'layer_types',
      'may only contain "sliding_attention" or "full_attention".',
    );
    if (types.includes('sliding_attention'))
      r.require(window !== undefined, 'sliding_window', 'is required when layer_types has sliding layers.');
    return types.map((t) => (t === 'sliding_attention' ? { kind: 'sliding', window: window! } : GLOBAL));
  }
  return Array.from({ length: n }, (_, i) =>
    window !== undefined && isSliding(i) ? { kind: 'sliding', window } : GLOBAL,
  );
}

export function layerKinds(win: AttentionWindow[], isMoe: (i: number) => boolean): LayerKind[] {
  return win.map((attention, i) => ({ mlp: isMoe(i) ? 'moe' : 'dense', attention }));
}

export function attention(c: Core, over: Partial<AttentionSpec> = {}): AttentionSpec {
  const base: AttentionSpec = {
    nHeads: c.nHeads,
    nKvHeads: c.nKvHeads,
    dHead: c.dHead,
    qkvBias: false,
    oBias: false,
    qkNorm: false,
    sinks: false,
    mla: null,
    ropeFraction: 1,
  };
  return { ...base, ...over };
}

export function gated(dMlp: number, act: string, bias = false): MlpSpec {
  return { kind: 'gated', dMlp, bias, act };
}

/** A RoPE + RMSNorm + gated-MLP decoder (Llama and its descendants). */
export function ropeDecoder(r: ConfigReader, c: Core, over: Partial<Built>): Built {
  const base: Built = {
    family: 'llama',
    vocabSize: c.vocabSize,
    dModel: c.dModel,
    nLayers: c.nLayers,
    maxPositions: c.maxPositions,
    positions: 'rope',
    norm: 'rmsnorm',
    normPlusOne: false,
    normPlacement: 'pre',
    finalNorm: true,
    tiedEmbeddings: r.boolOr('tie_word_embeddings', false),
    embedScale: false,
    attention: attention(c),
    // Read lazily: GPT-style configs have no intermediate_size and always pass their own mlp.
    mlp: over.mlp ?? gated(r.int('intermediate_size'), r.strOr('hidden_act', 'silu')),
    moe: null,
    // Lazy like mlp: families with sliding windows pass their own layers.
    layers:
      over.layers ??
      layerKinds(
        windows(r, c.nLayers, undefined, () => false),
        () => false,
      ),
    mtpLayers: 0,
  };
  return { ...base, ...over };
}

export function moe(r: ConfigReader, nExperts: number, dExpert: number, over: Partial<MoeSpec> = {}): MoeSpec {
  const topK = r.int('num_experts_per_tok', 'experts_per_token');
  r.require(topK <= nExperts, 'num_experts_per_tok', `must not exceed the number of experts (${nExperts}).`);
  return {
    nExperts,
    topK,
    dExpert,
    dShared: 0,
    nShared: 0,
    sharedGate: false,
    routerBias: false,
    expertBias: false,
    ...over,
  };
}

/** Qwen's sliding rule: layers at index >= max_window_layers slide when use_sliding_window is on. */
export function qwenWindows(r: ConfigReader, n: number): AttentionWindow[] {
  const on = r.boolOr('use_sliding_window', false);
  const from = r.intOr('max_window_layers', n);
  return windows(r, n, on ? r.optInt('sliding_window') : undefined, (i) => i >= from);
}

/** Qwen MoE placement: every decoder_sparse_step-th layer, except those listed in mlp_only_layers. */
export function qwenMoeLayer(r: ConfigReader): (i: number) => boolean {
  const step = r.intOr('decoder_sparse_step', 1);
  const dense = new Set(r.intList('mlp_only_layers'));
  return (i) => !dense.has(i) && (i + 1) % step === 0;
}

/** DeepSeek MoE placement: dense for the first first_k_dense_replace layers, then every moe_layer_freq-th. */
export function deepseekMoeLayer(r: ConfigReader): (i: number) => boolean {
  const first = r.intOr('first_k_dense_replace', 0);
  const freq = r.intOr('moe_layer_freq', 1);
  return (i) => i >= first && i % freq === 0;
}

export function deepseekMoe(r: ConfigReader, routerBias: boolean): MoeSpec | null {
  const n = r.optInt('n_routed_experts');
  if (n === undefined) return null;
  const dExpert = r.int('moe_intermediate_size');
  const nShared = r.intOr('n_shared_experts', 0);
  return moe(r, n, dExpert, { dShared: nShared * dExpert, nShared, routerBias });
}
