// Parameter counts from an ArchSpec: breakdown, per-layer-kind figures, named conventions, MoE active, memory.
import { badRequest } from '../errors/problem-error.js';
import { groupLayers } from './layer-groups.js';
import type { ArchSpec } from './spec.js';
import { globalTensors, layerTensors, mtpTensors, sumCounts, type Component, type ParamTensor } from './tensors.js';

export const COMPONENTS: readonly Component[] = [
  'token_embedding',
  'position_embedding',
  'attention',
  'mlp',
  'routed_experts',
  'shared_experts',
  'router',
  'norm',
  'final_norm',
  'lm_head',
];

export interface LayerKindParams {
  id: string;
  mlp: 'dense' | 'moe';
  layers: string;
  count: number;
  params_per_layer: number;
  /** Parameters one token uses in this layer (= params_per_layer for dense layers). */
  active_per_layer: number;
  tensors: ParamTensor[];
}

export interface MemoryFigure {
  dtype: 'fp32' | 'bf16' | 'int8' | 'int4';
  bytes_per_param: number;
  bytes: number;
  gib: number;
}

export interface ParamsReport {
  total: number;
  /** Per-token parameters for MoE models; null for dense models (every parameter is active). */
  active: number | null;
  active_non_embedding: number | null;
  conventions: { total: number; non_embedding: number; excluding_embeddings: number; hidden_only: number };
  breakdown: Record<Component, number>;
  tied_embeddings: boolean;
  global_tensors: ParamTensor[];
  layer_kinds: LayerKindParams[];
  mtp: null | {
    modules: number;
    params: number;
    params_with_shared_copies: number;
    total_with_mtp: number;
    tensors: ParamTensor[];
  };
  memory: MemoryFigure[];
}

/** Routed-expert tensors count k/E of their elements per token (exact: each stacks E equal experts). */
function activeCount(p: ParamTensor, spec: ArchSpec): number {
  if (p.component !== 'routed_experts' || !spec.moe) return p.count;
  return (p.count / spec.moe.nExperts) * spec.moe.topK;
}

const GIB = 1024 ** 3;
const DTYPES: ReadonlyArray<[MemoryFigure['dtype'], number]> = [
  ['fp32', 4],
  ['bf16', 2],
  ['int8', 1],
  ['int4', 0.5],
];

export function memoryFigures(params: number): MemoryFigure[] {
  return DTYPES.map(([dtype, b]) => {
    const bytes = Math.ceil(params * b);
    return { dtype, bytes_per_param: b, bytes, gib: Math.round((bytes / GIB) * 1000) / 1000 };
  });
}

export function countParams(spec: ArchSpec): ParamsReport {
  const globals = globalTensors(spec);
  const breakdown = Object.fromEntries(COMPONENTS.map((c) => [c, 0])) as Record<Component, number>;
  for (const p of globals) breakdown[p.component] += p.count;

  let hiddenOnly = 0;
  let layersActive = 0;
  const kinds: LayerKindParams[] = groupLayers(spec.layers, false).map((g) => {
    const tensors = layerTensors(spec, g.kind);
    const n = g.indices.length;
    for (const p of tensors) {
      breakdown[p.component] += p.count * n;
      if (p.role === 'weight') hiddenOnly += p.count * n;
    }
    const active = tensors.reduce((a, p) => a + activeCount(p, spec), 0);
    layersActive += active * n;
    return {
      id: g.id,
      mlp: g.kind.mlp,
      layers: g.ranges,
      count: n,
      params_per_layer: sumCounts(tensors),
      active_per_layer: active,
      tensors,
    };
  });

  const total = COMPONENTS.reduce((a, c) => a + breakdown[c], 0);
  // Every term is non-negative, so a safe total means every partial sum above was exact.
  if (!Number.isSafeInteger(total)) {
    throw badRequest(
      'config_out_of_range',
      `This config describes about ${total.toExponential(2)} parameters, more than can be counted exactly (2^53).`,
    );
  }
  const embed = breakdown.token_embedding;
  const pos = breakdown.position_embedding;
  const untiedEmbed = spec.tiedEmbeddings ? 0 : embed;
  const isMoe = spec.moe !== null && kinds.some((k) => k.mlp === 'moe');
  const active = isMoe ? sumCounts(globals) + layersActive : null;

  let mtp: ParamsReport['mtp'] = null;
  if (spec.mtpLayers > 0) {
    const tensors = mtpTensors(spec);
    const one = sumCounts(tensors);
    // Checkpoints store each module's embedding and head again (shared in the model): the "as stored" figure.
    const copies = embed + spec.vocabSize * spec.dModel;
    const params = one * spec.mtpLayers;
    const withCopies = (one + copies) * spec.mtpLayers;
    mtp = {
      modules: spec.mtpLayers,
      params,
      params_with_shared_copies: withCopies,
      total_with_mtp: total + withCopies,
      tensors,
    };
  }

  return {
    total,
    active,
    active_non_embedding: active === null ? null : active - untiedEmbed - pos,
    conventions: {
      total,
      // nanoGPT: drop lookup-only tables (positions; the input embedding unless it doubles as the head).
      non_embedding: total - pos - untiedEmbed,
      // Kaplan et al. / Qwen model cards: drop token and position embeddings and the LM head.
      excluding_embeddings: total - embed - pos - breakdown.lm_head,
      // TransformerLens cfg.n_params: weight matrices inside the blocks (no biases, norms, embeddings).
      hidden_only: hiddenOnly,
    },
    breakdown,
    tied_embeddings: spec.tiedEmbeddings,
    global_tensors: globals,
    layer_kinds: kinds,
    mtp,
    memory: memoryFigures(total),
  };
}
