// Per-model_type rules: which HF config fields mean what, and each family's defaults. One entry per model_type.
import type { ConfigReader } from './config-reader.js';
import type { AttentionSpec, ModelType } from './spec.js';
import {
  attention,
  core,
  deepseekMoe,
  deepseekMoeLayer,
  gated,
  layerKinds,
  moe,
  qwenMoeLayer,
  qwenWindows,
  ropeDecoder,
  windows,
  type Built,
  type Core,
} from './family-parts.js';

export type { Built } from './family-parts.js';
export interface FamilyRule {
  build(r: ConfigReader, notes: string[]): Built;
}

function gpt2Like(r: ConfigReader, family: string, over: Partial<Built>): Built {
  const dModel = r.int('n_embd');
  const nHeads = r.int('n_head');
  r.require(dModel % nHeads === 0, 'n_head', `must divide n_embd (${dModel}).`);
  const nLayers = r.int('n_layer');
  const c: Core = {
    vocabSize: r.int('vocab_size'),
    dModel,
    nLayers,
    nHeads,
    nKvHeads: nHeads,
    dHead: dModel / nHeads,
    maxPositions: r.int('n_positions', 'n_ctx'),
  };
  return ropeDecoder(r, c, {
    family,
    positions: 'learned',
    norm: 'layernorm',
    tiedEmbeddings: r.boolOr('tie_word_embeddings', true),
    attention: attention(c, { qkvBias: true, oBias: true, ropeFraction: null }),
    mlp: {
      kind: 'plain',
      dMlp: r.intOr('n_inner', 4 * dModel),
      bias: true,
      act: r.strOr('activation_function', r.strOr('afn', 'gelu_new')),
    },
    ...over,
  });
}

function gemmaLike(r: ConfigReader, c: Core, over: Partial<Built>): Built {
  return ropeDecoder(r, c, {
    family: 'gemma',
    normPlusOne: true,
    embedScale: true,
    tiedEmbeddings: r.boolOr('tie_word_embeddings', true),
    attention: attention(c, { qkvBias: r.boolOr('attention_bias', false), oBias: r.boolOr('attention_bias', false) }),
    mlp: gated(r.int('intermediate_size'), r.strOr('hidden_activation', r.strOr('hidden_act', 'gelu_pytorch_tanh'))),
    ...over,
  });
}

function mla(r: ConfigReader, c: Core): AttentionSpec {
  const bias = r.boolOr('attention_bias', false);
  const spec = {
    qLoraRank: r.optInt('q_lora_rank') ?? null,
    kvLoraRank: r.int('kv_lora_rank'),
    qkNopeHeadDim: r.int('qk_nope_head_dim'),
    qkRopeHeadDim: r.int('qk_rope_head_dim'),
    vHeadDim: r.int('v_head_dim'),
  };
  // After the KV up-projection every query head has its own K and V: MLA is MHA at compute time.
  return attention(c, {
    nKvHeads: c.nHeads,
    dHead: spec.qkNopeHeadDim + spec.qkRopeHeadDim,
    qkvBias: bias,
    oBias: bias,
    mla: spec,
    ropeFraction: null,
  });
}

function deepseekMla(r: ConfigReader, mtpDefault: number): Built {
  const c = core(r);
  const m = deepseekMoe(r, r.strOr('topk_method', 'greedy') === 'noaux_tc');
  const isMoe = deepseekMoeLayer(r);
  return ropeDecoder(r, c, {
    family: 'deepseek',
    attention: mla(r, c),
    moe: m,
    layers: layerKinds(
      windows(r, c.nLayers, undefined, () => false),
      (i) => m !== null && isMoe(i),
    ),
    mtpLayers: r.intOr('num_nextn_predict_layers', mtpDefault),
  });
}

export const FAMILY_RULES: Readonly<Record<ModelType, FamilyRule>> = {
  'openai-gpt': {
    // GPT-1: post-norm blocks and no final LayerNorm.
    build: (r) => gpt2Like(r, 'gpt', { normPlacement: 'post', finalNorm: false }),
  },
  gpt2: { build: (r) => gpt2Like(r, 'gpt', {}) },
  llama: {
    build: (r) => {
      const c = core(r);
      const bias = r.boolOr('attention_bias', false);
      return ropeDecoder(r, c, {
        attention: attention(c, { qkvBias: bias, oBias: bias }),
        mlp: gated(r.int('intermediate_size'), r.strOr('hidden_act', 'silu'), r.boolOr('mlp_bias', false)),
      });
    },
  },
  mistral: {
    build: (r) => {
      const c = core(r);
      const win = windows(r, c.nLayers, r.optInt('sliding_window'), () => true);
      return ropeDecoder(r, c, { family: 'mistral', layers: layerKinds(win, () => false) });
    },
  },
  mixtral: {
    build: (r) => {
      const c = core(r);
      const win = windows(r, c.nLayers, r.optInt('sliding_window'), () => true);
      const m = moe(r, r.int('num_local_experts'), r.int('intermediate_size'));
      return ropeDecoder(r, c, { family: 'mistral', moe: m, layers: layerKinds(win, () => true) });
    },
  },
  qwen2: {
    build: (r) => {
      const c = core(r);
      return ropeDecoder(r, c, {
        family: 'qwen',
        attention: attention(c, { qkvBias: true }),
        layers: layerKinds(qwenWindows(r, c.nLayers), () => false),
      });
    },
  },
  qwen2_moe: {
    build: (r) => {
      const c = core(r);
      const dShared = r.intOr('shared_expert_intermediate_size', 0);
      const n = r.int('num_experts');
      const m =
        n > 0
          ? moe(r, n, r.int('moe_intermediate_size'), {
              dShared,
              nShared: dShared > 0 ? 1 : 0,
              sharedGate: dShared > 0,
            })
          : null;
      const isMoe = qwenMoeLayer(r);
      const layers = layerKinds(qwenWindows(r, c.nLayers), (i) => m !== null && isMoe(i));
      return ropeDecoder(r, c, { family: 'qwen', attention: attention(c, { qkvBias: true }), moe: m, layers });
    },
  },
  qwen3: {
    build: (r) => {
      const c = core(r);
      const bias = r.boolOr('attention_bias', false);
      const a = attention(c, { qkvBias: bias, oBias: bias, qkNorm: true });
      return ropeDecoder(r, c, {
        family: 'qwen',
        attention: a,
        layers: layerKinds(qwenWindows(r, c.nLayers), () => false),
      });
    },
  },
  qwen3_moe: {
    build: (r) => {
      const c = core(r);
      const bias = r.boolOr('attention_bias', false);
      const m = moe(r, r.int('num_experts'), r.int('moe_intermediate_size'));
      const isMoe = qwenMoeLayer(r);
      const a = attention(c, { qkvBias: bias, oBias: bias, qkNorm: true });
      return ropeDecoder(r, c, {
        family: 'qwen',
        attention: a,
        moe: m,
        layers: layerKinds(qwenWindows(r, c.nLayers), isMoe),
      });
    },
  },
  deepseek: {
    build: (r) => {
      const c = core(r);
      const bias = r.boolOr('attention_bias', false);
      const m = deepseekMoe(r, false);
      const isMoe = deepseekMoeLayer(r);
      const layers = layerKinds(
        windows(r, c.nLayers, undefined, () => false),
        (i) => m !== null && isMoe(i),
      );
      return ropeDecoder(r, c, {
        family: 'deepseek',
        attention: attention(c, { qkvBias: bias, oBias: bias }),
        moe: m,
        layers,
      });
    },
  },
  deepseek_v2: { build: (r) => deepseekMla(r, 0) },
  deepseek_v3: { build: (r) => deepseekMla(r, 0) },
  gemma: { build: (r) => gemmaLike(r, core(r), {}) },
  gemma2: {
    build: (r) => {
      const c = core(r);
      // Gemma 2 alternates local (sliding) and global layers, starting with a local one.
      const win = windows(r, c.nLayers, r.intOr('sliding_window', 4096), (i) => i % 2 === 0);
      return gemmaLike(r, c, { normPlacement: 'sandwich', layers: layerKinds(win, () => false) });
    },
  },
  gemma3_text: {
    build: (r) => {
      const c = core(r);
      // Gemma 3: (pattern-1) local layers then one global layer, repeated.
      const pattern = r.intOr('sliding_window_pattern', 6);
      const win = windows(r, c.nLayers, r.intOr('sliding_window', 4096), (i) => (i + 1) % pattern !== 0);
      const g = gemmaLike(r, c, { normPlacement: 'sandwich', layers: layerKinds(win, () => false) });
      return { ...g, attention: { ...g.attention, qkNorm: true } };
    },
  },
  phi3: {
    build: (r) => {
      const c = core(r);
      const win = windows(r, c.nLayers, r.optInt('sliding_window'), () => true);
      const a = attention(c, { ropeFraction: r.numOr('partial_rotary_factor', 1) });
      return ropeDecoder(r, c, { family: 'phi', attention: a, layers: layerKinds(win, () => false) });
    },
  },
  gpt_oss: {
    build: (r) => {
      const c = core(r);
      const bias = r.boolOr('attention_bias', true);
      const win = windows(r, c.nLayers, r.intOr('sliding_window', 128), (i) => i % 2 === 0);
      const m = moe(r, r.int('num_local_experts'), r.int('intermediate_size'), { routerBias: true, expertBias: true });
      return ropeDecoder(r, c, {
        family: 'gpt-oss',
        attention: attention(c, { qkvBias: bias, oBias: bias, sinks: true }),
        mlp: gated(r.int('intermediate_size'), 'swiglu_clamped', true),
        moe: m,
        layers: layerKinds(win, () => true),
      });
    },
  },
};
