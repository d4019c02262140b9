// Attribution for a request: resolve the target tokens, read the weight slices, decompose, shape the reply.
import { badRequest } from '../errors/problem-error.js';
import type { ModelDims } from '../arch/model-dims.js';
import type { ForwardResult } from '../runtime/types.js';
import type { Attribution, AttributionRequest } from '../schemas/attribution.js';
import { GPT2_TOKENIZER, type ModelTokenizer } from '../tokenizer/model-tokenizer.js';
import { tokenText } from '../tokenizer/token-text.js';
import { resolveTokenRef } from '../tokenizer/token-ref.js';
import { directLogitAttribution, topComponents } from './dla.js';
import { type LogitTarget, loadDlaWeights } from './weights.js';

/** The request's target, checked before anything runs; `null` tokens = the top-1 next token, fixed after the run. */
export function resolveAttributionTargets(
  req: AttributionRequest,
  dVocab: number,
  modelType: string,
  tok: ModelTokenizer,
): number[] | null {
  if (req === false) return null;
  if (modelType !== 'gpt2')
    throw badRequest(
      'attribution_unsupported',
      `attribution: direct logit attribution is implemented for GPT-2 checkpoints; this model is ${modelType}.`,
      { field: 'attribution', model_type: modelType },
    );
  if (req === true || req.tokens === undefined) return null;
  return req.tokens.map((t, i) => resolveTokenRef(t, dVocab, `attribution.tokens[${i}]`, tok));
}

export async function attributeLastPosition(
  dir: string,
  dims: ModelDims,
  result: ForwardResult,
  ids: number[],
  top: number,
  tok: ModelTokenizer = GPT2_TOKENIZER,
): Promise<Attribution> {
  const target: LogitTarget = { ids, signs: ids.length === 2 ? [1, -1] : [1] };
  const position = result.logits.dims[0] - 1;
  const row = result.logits.data.subarray(position * dims.dVocab, (position + 1) * dims.dVocab); // [d_vocab]
  const logit = target.ids.reduce((s, id, i) => s + target.signs[i] * row[id], 0);
  const w = await loadDlaWeights(dir, target);
  const r = directLogitAttribution(result.activations, w, dims, position, logit);
  return {
    position: r.position,
    target: {
      kind: ids.length === 2 ? 'logit_diff' : 'logit',
      tokens: ids.map((id) => ({ id, text: tokenText(id, tok) })),
    },
    logit: r.logit,
    ln_final_bias: r.lnFinalBias,
    sum: r.sum,
    final_scale: r.finalScale,
    embed: r.embed,
    pos_embed: r.posEmbed,
    heads: r.heads,
    attn_bias: r.attnBias,
    mlp: r.mlp,
    mlp_bias: r.mlpBias,
    top: topComponents(r, top),
  };
}
