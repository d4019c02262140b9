// Logit lens: ln_final + unembedding applied to the residual stream after every block.
import type { Activation, ModelRuntime } from '../runtime/types.js';
import { GPT2_TOKENIZER, type ModelTokenizer } from '../tokenizer/model-tokenizer.js';
import type { LogitLens } from '../schemas/trace.js';
import { argmax } from '../sampling/softmax.js';
import { tokenText } from '../tokenizer/token-text.js';
import { probOf } from './next-token.js';

/**
 * The residual-stream points read by the lens: the embedding (blocks.0.hook_resid_pre = embed + pos_embed)
 * then blocks.{i}.hook_resid_post for every block. Layer index -1 marks the embedding.
 */
export function lensStages(nLayer: number): { stage: string; layer: number }[] {
  const stages = [{ stage: 'blocks.0.hook_resid_pre', layer: -1 }];
  for (let i = 0; i < nLayer; i++) stages.push({ stage: `blocks.${i}.hook_resid_post`, layer: i });
  return stages;
}

export async function logitLens(
  runtime: ModelRuntime,
  activations: ReadonlyMap<string, Activation>,
  logits: Activation,
  positions: readonly number[],
  offset: number,
  topK: number,
  tokenizer: ModelTokenizer = GPT2_TOKENIZER,
): Promise<LogitLens> {
  const { dModel, dVocab } = runtime.dims;
  const stages = lensStages(runtime.dims.nLayer);
  // The real output distribution's top-1 at each position: the token the lens tracks through the layers.
  const finals = positions.map((p) => {
    const row = logits.data.subarray((p - offset) * dVocab, (p - offset + 1) * dVocab); // [d_vocab]
    const id = argmax(row);
    return { id, text: tokenText(id, tokenizer), prob: probOf(row, id) };
  });
  const trackIds = [...new Set(finals.map((f) => f.id))];
  // Stage-major rows: [n_stages * n_positions, d_model]
  const nRows = stages.length * positions.length;
  const rows = new Float32Array(nRows * dModel);
  stages.forEach(({ stage }, s) => {
    const act = activations.get(stage);
    if (!act) throw new Error(`logit lens needs ${stage} in the forward result`);
    positions.forEach((p, j) => {
      const r = p - offset;
      rows.set(act.data.subarray(r * dModel, (r + 1) * dModel), (s * positions.length + j) * dModel);
    });
  });
  const lensRows = await runtime.lens({ rows, nRows, topK, trackIds });
  return {
    stages: stages.map((s) => s.stage),
    positions: positions.map((position, j) => ({
      position,
      final_top1: finals[j],
      layers: stages.map(({ stage, layer }, s) => {
        const row = lensRows[s * positions.length + j];
        return {
          stage,
          layer,
          top: row.topIds.map((id, t) => ({ id, text: tokenText(id, tokenizer), prob: row.topProbs[t] })),
          final_top1_prob: row.tracked[trackIds.indexOf(finals[j].id)],
        };
      }),
    })),
  };
}
