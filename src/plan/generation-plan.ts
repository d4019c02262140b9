// The stream's `generate` frame as a plan: the one request sequence plus sampling and the per-step size limit.
import type { AppConfig } from '../config.js';
import type { ModelRegistry } from '../plugins/model-registry.js';
import { randomSeed } from '../sampling/rng.js';
import { isGreedy, type SamplingParams } from '../sampling/sample.js';
import { DEFAULT_NEW_TOKENS, type GenerateMessage, type ResolvedParams } from '../schemas/stream.js';
import { hooksToFetch } from '../decode/summarize-forward.js';
import { attributionHooks } from '../attribution/dla.js';
import { resolveAttributionTargets } from '../attribution/run-attribution.js';
import { planRequest, type RequestPlan } from './request-plan.js';
import { resolveInterventions } from '../interventions/resolve.js';
import type { ResolvedIntervention } from '../interventions/types.js';
import type { InterventionInput } from '../schemas/interventions.js';
import { assertWithinBudget, countReturnedValues } from './value-budget.js';

export interface GenerationPlan extends RequestPlan {
  /** The client's label for the generation. */
  readonly id: string;
  /** The name the client asked for (an alias stays an alias in the frames). */
  readonly model: string;
  /** Hooks fetched from forward(): the selection plus what the logit lens reads. */
  readonly fetch: readonly string[];
  /** = positions: what the prefill step reports. */
  readonly prefillPositions: readonly number[];
  readonly sampling: SamplingParams;
  /** The parameters as resolved, echoed in `started`. */
  readonly params: ResolvedParams;
  /** Direct logit attribution of every generated token (its hooks are in `fetch`). */
  readonly attribution: boolean;
  /** Run the clean model in lockstep (generate compare: true). */
  readonly compare: boolean;
}

/**
 * Same rules and error codes as POST /trace (prompt/token_ids, n_ctx, MAX_NEW_TOKENS, hooks, positions,
 * MAX_RETURNED_VALUES), so a client gets the same answer on both transports. Throws ProblemError.
 */
export function planGeneration(
  msg: GenerateMessage,
  registry: Pick<ModelRegistry, 'resolve' | 'defaultName'>,
  config: Pick<AppConfig, 'MAX_NEW_TOKENS' | 'MAX_INTERVENTIONS' | 'MAX_RETURNED_VALUES'>,
): GenerationPlan {
  const maxNewTokens = msg.max_new_tokens ?? Math.min(DEFAULT_NEW_TOKENS, config.MAX_NEW_TOKENS);
  const plan = planRequest(
    {
      model: msg.model,
      prompt: msg.prompt,
      token_ids: msg.token_ids,
      maxNewTokens,
      hooks: msg.hooks,
      positions: msg.prefill_positions,
      detail: msg.detail,
      interventions: msg.interventions,
    },
    registry,
    config,
    {
      beforeEdits: ({ hooks, dims, positions, promptIds, detail }) => {
        const full = detail === 'full';
        const P = promptIds.length;
        // The prefill step returns its positions over the prompt; the largest decode step has key_pos = the whole context.
        assertWithinBudget(countReturnedValues(hooks, dims, positions, P, full), config.MAX_RETURNED_VALUES);
        const lastLength = P + Math.max(0, maxNewTokens - 1);
        assertWithinBudget(
          countReturnedValues(hooks, dims, [lastLength - 1], lastLength, full),
          config.MAX_RETURNED_VALUES,
        );
      },
    },
  );
  // same rule and code as /trace: attribution is for GPT-2 checkpoints
  resolveAttributionTargets(msg.attribution, plan.dims.dVocab, plan.info.modelType ?? 'gpt2', plan.tokenizer);
  const fetch = hooksToFetch(plan.hooks, plan.dims.nLayer, msg.logit_lens);
  const sampling: SamplingParams = Object.freeze({ temperature: msg.temperature, topK: msg.top_k, topP: msg.top_p });
  return Object.freeze({
    ...plan,
    id: msg.id,
    model: msg.model ?? registry.defaultName,
    fetch: Object.freeze(msg.attribution ? [...new Set([...fetch, ...attributionHooks(plan.dims.nLayer)])] : fetch),
    attribution: msg.attribution,
    compare: msg.compare,
    prefillPositions: plan.positions,
    sampling,
    params: Object.freeze({
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
      prefill_positions: [...plan.positions],
      compare: msg.compare,
    }),
  });
}

/**
 * An `intervene` message's set, resolved under the rules of `generate` (positions are prompt positions, negative
 * from the prompt's end). Throws ProblemError with the same codes.
 */
export function planIntervention(
  list: readonly InterventionInput[],
  plan: GenerationPlan,
  config: Pick<AppConfig, 'MAX_INTERVENTIONS'>,
): ResolvedIntervention[] {
  return resolveInterventions(list, {
    dims: plan.dims,
    promptLength: plan.promptIds.length,
    max: config.MAX_INTERVENTIONS,
    encode: (t: string) => plan.tokenizer.encode(t),
  });
}
