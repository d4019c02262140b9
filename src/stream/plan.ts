// Validate a `generate` frame against the model and the server limits, before anything is loaded or run.
import type { AppConfig } from '../config.js';
import type { ModelRegistry, RunnableModelInfo } from '../plugins/model-registry.js';
import { DEFAULT_NEW_TOKENS, type GenerateMessage, type ResolvedParams } from '../schemas/stream.js';
import { randomSeed } from '../sampling/rng.js';
import { resolveInterventions } from '../interventions/resolve.js';
import type { ResolvedIntervention } from '../interventions/types.js';
import { isGreedy, type SamplingParams } from '../sampling/sample.js';
import { selectModelHooks } from '../trace/hook-select.js';
import { resolvePositions } from '../trace/positions.js';
import { checkLengths, promptTokens } from '../trace/run-trace.js';
import { hooksToFetch } from '../trace/summarize-forward.js';
import { assertWithinBudget, countReturnedValues } from '../trace/value-budget.js';

export interface GenerationPlan {
  id: string;
  model: string;
  info: RunnableModelInfo;
  promptIds: number[];
  /** Hooks summarised in every step (forward order). */
  hooks: string[];
  /** Hooks fetched from forward(): the selection plus what the logit lens reads. */
  fetch: string[];
  prefillPositions: number[];
  sampling: SamplingParams;
  params: ResolvedParams;
  /** Resolved interventions (patch sources not yet run: the generation runs them once it has the model). */
  interventions: ResolvedIntervention[];
}

/**
 * Same rules and error codes as POST /trace (prompt/token_ids, n_ctx, MAX_NEW_TOKENS, hooks, positions,
 * MAX_RETURNED_VALUES), so a client gets the same answer on both transports. Throws ProblemError.
 */
export function planGeneration(msg: GenerateMessage, registry: ModelRegistry, config: AppConfig): GenerationPlan {
  const model = msg.model ?? registry.defaultName;
  const info = registry.resolve(model);
  const { dims } = info;
  const promptIds = promptTokens(msg, dims.dVocab, { model: info.name, nCtx: dims.nCtx }, info.tokenizer);
  const maxNewTokens = msg.max_new_tokens ?? Math.min(DEFAULT_NEW_TOKENS, config.MAX_NEW_TOKENS);
  checkLengths(promptIds.length, maxNewTokens, info, config.MAX_NEW_TOKENS);
  const hooks = selectModelHooks(msg.hooks, dims);
  const prefillPositions = resolvePositions(msg.prefill_positions, promptIds.length);
  const full = msg.detail === 'full';
  // The prefill step returns its positions over the prompt; the largest decode step has key_pos = the whole context.
  assertWithinBudget(
    countReturnedValues(hooks, dims, prefillPositions, promptIds.length, full),
    config.MAX_RETURNED_VALUES,
  );
  const lastLength = promptIds.length + Math.max(0, maxNewTokens - 1);
  assertWithinBudget(countReturnedValues(hooks, dims, [lastLength - 1], lastLength, full), config.MAX_RETURNED_VALUES);

  const interventions = resolveInterventions(msg.interventions ?? [], {
    dims,
    promptLength: promptIds.length,
    max: config.MAX_INTERVENTIONS,
    encode: info.tokenizer ? (t: string) => info.tokenizer!.encode(t) : undefined,
  });
  const sampling: SamplingParams = { temperature: msg.temperature, topK: msg.top_k, topP: msg.top_p };
  return {
    id: msg.id,
    model,
    info,
    promptIds,
    hooks,
    fetch: hooksToFetch(hooks, dims.nLayer, msg.logit_lens),
    prefillPositions,
    sampling,
    interventions,
    params: {
      max_new_tokens: maxNewTokens,
      temperature: msg.temperature,
      top_k: msg.top_k,
      top_p: msg.top_p,
      seed: msg.seed ?? randomSeed(),
      greedy: isGreedy(sampling),
      stop: msg.stop,
      stop_at_eos: msg.stop_at_eos,
      detail: msg.detail,
      logit_lens: msg.logit_lens,
      alternatives: msg.alternatives,
      histogram_bins: msg.histogram_bins,
      prefill_positions: prefillPositions,
    },
  };
}
