// The hook catalogue: every activation each graph family exposes, named as in TransformerLens.
// The graph builders, the trace service, the stream and the tests all read these tables; nothing
// infers an axis from a hook's name. Shapes are for batch 1 (the batch axis is dropped).
import type { ModelDims, ModelFamily } from '../arch/model-dims.js';
import { badRequest, type ProblemError } from '../errors/problem-error.js';

/**
 * TransformerLens dimension words. `pos` is the new tokens of this forward call; `key_pos` spans past + new;
 * `kv_head` is a key/value head of grouped-query attention (TransformerLens' grouped hook_k / hook_v).
 */
export const DIMS = [
  'pos',
  'query_pos',
  'key_pos',
  'head',
  'kv_head',
  'd_model',
  'd_head',
  'd_mlp',
  'd_vocab',
] as const;
export type Dim = (typeof DIMS)[number];

/**
 * The size of an axis word for a model (the one dim -> size mapping): `pos` / `query_pos` = `lengths.pos`
 * (the positions in view), `key_pos` = `lengths.keyPos` (every token attended to); the rest from the dims.
 */
export function dimSize(
  d: Dim,
  dims: Pick<ModelDims, 'nHead' | 'nKvHeads' | 'dModel' | 'dHead' | 'dMlp' | 'dVocab'>,
  lengths: { pos: number; keyPos: number },
): number {
  switch (d) {
    case 'pos':
    case 'query_pos':
      return lengths.pos;
    case 'key_pos':
      return lengths.keyPos;
    case 'head':
      return dims.nHead;
    case 'kv_head':
      return dims.nKvHeads ?? dims.nHead;
    case 'd_model':
      return dims.dModel;
    case 'd_head':
      return dims.dHead;
    case 'd_mlp':
      return dims.dMlp;
    case 'd_vocab':
      return dims.dVocab;
  }
}

export interface HookSite {
  /** Name without the `blocks.{i}.` prefix for per-layer sites, e.g. `attn.hook_pattern`. */
  site: string;
  /** true: exists once per block as `blocks.{i}.{site}`; false: a single global hook. */
  perLayer: boolean;
  dims: readonly Dim[];
  /** One line for docs and the page. */
  description: string;
  /**
   * Opt-in: computed only when asked for by a pattern that names the site itself (`blocks.*.attn.hook_result`),
   * never by a broad glob (`blocks.3.*`) or the default overview. For large tensors that cost extra work.
   */
  optIn?: boolean;
  /** The attention pattern: its rows are what /trace and the stream draw (`attention[]`). */
  pattern?: boolean;
  /** The logits: returned as ForwardResult.logits, not among the activations; nothing downstream reads them. */
  logits?: boolean;
  /** After the last block (ln_final, logits): listed after every per-block hook. */
  afterBlocks?: boolean;
  /** A side output, not on the forward path (attn.hook_result): it cannot be edited. */
  sideOutput?: boolean;
}

/** GPT-2, in forward order. */
export const HOOK_SITES: readonly HookSite[] = [
  { site: 'hook_embed', perLayer: false, dims: ['pos', 'd_model'], description: 'Token embedding rows W_E[token_ids]' },
  {
    site: 'hook_pos_embed',
    perLayer: false,
    dims: ['pos', 'd_model'],
    description: 'Learned position embedding rows W_pos[positions]',
  },
  {
    site: 'hook_resid_pre',
    perLayer: true,
    dims: ['pos', 'd_model'],
    description: 'Residual stream entering the block',
  },
  {
    site: 'ln1.hook_scale',
    perLayer: true,
    dims: ['pos'],
    description: 'LayerNorm 1 scale: sqrt(var + eps) per position',
  },
  {
    site: 'ln1.hook_normalized',
    perLayer: true,
    dims: ['pos', 'd_model'],
    description: 'LayerNorm 1 output (after gain and bias)',
  },
  { site: 'attn.hook_q', perLayer: true, dims: ['pos', 'head', 'd_head'], description: 'Queries per head' },
  {
    site: 'attn.hook_k',
    perLayer: true,
    dims: ['pos', 'head', 'd_head'],
    description: 'Keys per head (new positions only)',
  },
  {
    site: 'attn.hook_v',
    perLayer: true,
    dims: ['pos', 'head', 'd_head'],
    description: 'Values per head (new positions only)',
  },
  {
    site: 'attn.hook_attn_scores',
    perLayer: true,
    dims: ['head', 'query_pos', 'key_pos'],
    description: 'QK^T / sqrt(d_head) with the causal mask applied (masked entries are -inf)',
  },
  {
    site: 'attn.hook_pattern',
    pattern: true,
    perLayer: true,
    dims: ['head', 'query_pos', 'key_pos'],
    description: 'softmax of the scores over key_pos',
  },
  {
    site: 'attn.hook_z',
    perLayer: true,
    dims: ['pos', 'head', 'd_head'],
    description: 'pattern @ V per head, before the output projection',
  },
  {
    site: 'attn.hook_result',
    sideOutput: true,
    perLayer: true,
    dims: ['pos', 'head', 'd_model'],
    description: "Each head's write into the residual: z[:, h] @ W_O[h] (no b_O; sums over heads to attn_out - b_O)",
    optIn: true,
  },
  {
    site: 'hook_attn_out',
    perLayer: true,
    dims: ['pos', 'd_model'],
    description: 'Attention output after W_O and b_O',
  },
  { site: 'hook_resid_mid', perLayer: true, dims: ['pos', 'd_model'], description: 'resid_pre + attn_out' },
  { site: 'ln2.hook_scale', perLayer: true, dims: ['pos'], description: 'LayerNorm 2 scale' },
  { site: 'ln2.hook_normalized', perLayer: true, dims: ['pos', 'd_model'], description: 'LayerNorm 2 output' },
  { site: 'mlp.hook_pre', perLayer: true, dims: ['pos', 'd_mlp'], description: 'MLP pre-activation: x @ W_in + b_in' },
  { site: 'mlp.hook_post', perLayer: true, dims: ['pos', 'd_mlp'], description: 'gelu_new(pre)' },
  { site: 'hook_mlp_out', perLayer: true, dims: ['pos', 'd_model'], description: 'MLP output after W_out and b_out' },
  { site: 'hook_resid_post', perLayer: true, dims: ['pos', 'd_model'], description: 'resid_mid + mlp_out' },
  {
    site: 'ln_final.hook_scale',
    afterBlocks: true,
    perLayer: false,
    dims: ['pos'],
    description: 'Final LayerNorm scale',
  },
  {
    site: 'ln_final.hook_normalized',
    afterBlocks: true,
    perLayer: false,
    dims: ['pos', 'd_model'],
    description: 'Final LayerNorm output',
  },
  {
    site: 'logits',
    afterBlocks: true,
    logits: true,
    perLayer: false,
    dims: ['pos', 'd_vocab'],
    description: 'Unembedding: ln_final @ W_E^T (tied)',
  },
] as const;

/**
 * The llama family (llama, qwen2, qwen3, mistral), in forward order, as TransformerLens names them. RMSNorm hooks
 * come before the weight is applied (TransformerLens' RMSNorm: hook_scale = sqrt(mean(x^2) + eps),
 * hook_normalized = x / scale; the gain multiplies afterwards). Keys and values are grouped ([pos, kv_head, d_head],
 * TransformerLens without ungroup_grouped_query_attention); hook_q / hook_k are the projections (plus Qwen2's
 * biases) before Qwen3's per-head q/k norm and before RoPE; hook_rot_q / hook_rot_k are what the dot product reads.
 */
export const LLAMA_HOOK_SITES: readonly HookSite[] = [
  { site: 'hook_embed', perLayer: false, dims: ['pos', 'd_model'], description: 'Token embedding rows W_E[token_ids]' },
  {
    site: 'hook_resid_pre',
    perLayer: true,
    dims: ['pos', 'd_model'],
    description: 'Residual stream entering the block',
  },
  {
    site: 'ln1.hook_scale',
    perLayer: true,
    dims: ['pos'],
    description: 'RMSNorm 1 scale: sqrt(mean(x^2) + eps) per position',
  },
  {
    site: 'ln1.hook_normalized',
    perLayer: true,
    dims: ['pos', 'd_model'],
    description: 'RMSNorm 1: x / scale, before the weight',
  },
  {
    site: 'attn.hook_q',
    perLayer: true,
    dims: ['pos', 'head', 'd_head'],
    description: 'Queries per head (x @ W_Q + b_Q), before q-norm and RoPE',
  },
  {
    site: 'attn.hook_k',
    perLayer: true,
    dims: ['pos', 'kv_head', 'd_head'],
    description: 'Keys per key/value head, before k-norm and RoPE (new positions only)',
  },
  {
    site: 'attn.hook_v',
    perLayer: true,
    dims: ['pos', 'kv_head', 'd_head'],
    description: 'Values per key/value head (new positions only)',
  },
  {
    site: 'attn.hook_rot_q',
    perLayer: true,
    dims: ['pos', 'head', 'd_head'],
    description: 'Queries after q-norm (Qwen3) and rotary embedding (rotate-half pairing)',
  },
  {
    site: 'attn.hook_rot_k',
    perLayer: true,
    dims: ['pos', 'kv_head', 'd_head'],
    description: 'Keys after k-norm (Qwen3) and rotary embedding (new positions only)',
  },
  {
    site: 'attn.hook_attn_scores',
    perLayer: true,
    dims: ['head', 'query_pos', 'key_pos'],
    description: 'rot_q rot_k^T / sqrt(d_head), causal (and sliding-window) mask applied: masked entries are -inf',
  },
  {
    site: 'attn.hook_pattern',
    pattern: true,
    perLayer: true,
    dims: ['head', 'query_pos', 'key_pos'],
    description: 'softmax of the scores over key_pos',
  },
  {
    site: 'attn.hook_z',
    perLayer: true,
    dims: ['pos', 'head', 'd_head'],
    description: 'pattern @ V per query head (V of its key/value head), before the output projection',
  },
  { site: 'hook_attn_out', perLayer: true, dims: ['pos', 'd_model'], description: 'Attention output after W_O' },
  { site: 'hook_resid_mid', perLayer: true, dims: ['pos', 'd_model'], description: 'resid_pre + attn_out' },
  { site: 'ln2.hook_scale', perLayer: true, dims: ['pos'], description: 'RMSNorm 2 scale' },
  {
    site: 'ln2.hook_normalized',
    perLayer: true,
    dims: ['pos', 'd_model'],
    description: 'RMSNorm 2: x / scale, before the weight',
  },
  {
    site: 'mlp.hook_pre',
    perLayer: true,
    dims: ['pos', 'd_mlp'],
    description: 'Gate pre-activation: x @ W_gate',
  },
  {
    site: 'mlp.hook_pre_linear',
    perLayer: true,
    dims: ['pos', 'd_mlp'],
    description: 'Up projection: x @ W_in',
  },
  { site: 'mlp.hook_post', perLayer: true, dims: ['pos', 'd_mlp'], description: 'silu(pre) * pre_linear' },
  { site: 'hook_mlp_out', perLayer: true, dims: ['pos', 'd_model'], description: 'MLP output after W_out' },
  { site: 'hook_resid_post', perLayer: true, dims: ['pos', 'd_model'], description: 'resid_mid + mlp_out' },
  {
    site: 'ln_final.hook_scale',
    afterBlocks: true,
    perLayer: false,
    dims: ['pos'],
    description: 'Final RMSNorm scale',
  },
  {
    site: 'ln_final.hook_normalized',
    afterBlocks: true,
    perLayer: false,
    dims: ['pos', 'd_model'],
    description: 'Final RMSNorm: x / scale, before the weight',
  },
  {
    site: 'logits',
    afterBlocks: true,
    logits: true,
    perLayer: false,
    dims: ['pos', 'd_vocab'],
    description: 'Unembedding: (normalized * w) @ W_U (lm_head, or W_E^T when tied)',
  },
] as const;

/** The catalogue of a family. */
export function hookSitesFor(family: ModelFamily = 'gpt2'): readonly HookSite[] {
  return family === 'llama' ? LLAMA_HOOK_SITES : HOOK_SITES;
}

/** Full hook name for a site at a layer (`blocks.3.attn.hook_pattern`) or the global name. */
export function hookName(site: HookSite, layer?: number): string {
  return site.perLayer ? `blocks.${layer}.${site.site}` : site.site;
}

/** Every hook name of an n-layer model of a family, in forward order. */
export function allHookNames(nLayer: number, family: ModelFamily = 'gpt2'): string[] {
  const sites = hookSitesFor(family);
  const names: string[] = [];
  const globalsBefore = sites.filter((s) => !s.perLayer && !s.afterBlocks);
  const perLayer = sites.filter((s) => s.perLayer);
  const globalsAfter = sites.filter((s) => s.afterBlocks);
  for (const s of globalsBefore) names.push(hookName(s));
  for (let i = 0; i < nLayer; i++) for (const s of perLayer) names.push(hookName(s, i));
  for (const s of globalsAfter) names.push(hookName(s));
  return names;
}

/** Parse a hook name back to its site and layer; undefined if it is not in the catalogue. */
export function parseHookName(
  name: string,
  nLayer: number,
  family: ModelFamily = 'gpt2',
): { site: HookSite; layer: number | null } | undefined {
  const sites = hookSitesFor(family);
  const m = /^blocks\.(\d+)\.(.+)$/.exec(name);
  if (m) {
    const layer = Number(m[1]);
    if (!Number.isInteger(layer) || layer >= nLayer || String(layer) !== m[1]) return undefined;
    const site = sites.find((s) => s.perLayer && s.site === m[2]);
    return site ? { site, layer } : undefined;
  }
  const site = sites.find((s) => !s.perLayer && s.site === name);
  return site ? { site, layer: null } : undefined;
}

/** Every site as a pattern a client may send: `hook_embed`, `blocks.*.attn.hook_pattern`, ... (forward order). */
export function sitePatterns(family: ModelFamily = 'gpt2'): string[] {
  return hookSitesFor(family).map((s) => (s.perLayer ? `blocks.*.${s.site}` : s.site));
}

/**
 * The one `unknown_hook` (400), whichever layer finds the name: the request plan (globs), the interventions
 * (exact names) or the runtime. Lists what did not match and the family's valid patterns; `field` names the
 * request field when it is not `hooks`.
 */
export function unknownHook(
  unknown: readonly string[],
  nLayer: number,
  family: ModelFamily = 'gpt2',
  field?: string,
): ProblemError {
  const list = unknown.map((p) => `"${p}"`).join(', ');
  return badRequest(
    'unknown_hook',
    `${field ? `${field}: ` : ''}No hook of this model matches ${list}. Hooks are TransformerLens names: per block ` +
      `"blocks.{layer}.<site>" with layer 0..${nLayer - 1}, or a global hook; \`*\` is a wildcard (see valid_patterns).`,
    { ...(field ? { field } : {}), unknown: [...unknown], valid_patterns: sitePatterns(family) },
  );
}
