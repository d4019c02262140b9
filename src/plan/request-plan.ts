// The one request plan: any request (POST /trace, its export, the stream's `generate`) -> a validated, frozen plan.
// Every rule a request can break is checked here, in one order, before a model is loaded or run.
import { performance } from 'node:perf_hooks';
import type { ModelDims } from '../arch/model-dims.js';
import type { AppConfig } from '../config.js';
import { resolveInterventions } from '../interventions/resolve.js';
import type { ResolvedIntervention } from '../interventions/types.js';
import type { ModelRegistry, RunnableModelInfo } from '../plugins/model-registry.js';
import type { InterventionInput } from '../schemas/interventions.js';
import { GPT2_TOKENIZER, type ModelTokenizer } from '../tokenizer/model-tokenizer.js';
import { selectModelHooks } from './hook-select.js';
import { type PositionsSpec, resolvePositions } from './positions.js';
import { checkLengths, type PromptInput, promptTokens } from './prompt.js';

/** What every transport asks for, in the words of its schema. */
export interface PlanInput extends PromptInput {
  model?: string;
  /** Tokens to generate after the prompt (0: the prompt's forward pass only). */
  maxNewTokens: number;
  /** Hook names or globs; omitted: the overview (DEFAULT_HOOK_PATTERNS). */
  hooks?: readonly string[];
  /** Positions whose activations are reported (of the prompt's forward pass). */
  positions: PositionsSpec;
  detail: 'summary' | 'full';
  interventions?: readonly InterventionInput[];
}

/** A validated request: the model, its tokens, what to fetch and report, the edits. Frozen. */
export interface RequestPlan {
  /** The registry name the model resolved to. */
  readonly model: string;
  readonly info: RunnableModelInfo;
  readonly dims: ModelDims;
  readonly tokenizer: ModelTokenizer;
  readonly promptIds: readonly number[];
  readonly maxNewTokens: number;
  /** Exact hook names, forward order. */
  readonly hooks: readonly string[];
  /** Absolute prompt positions, ascending. */
  readonly positions: readonly number[];
  readonly detail: 'summary' | 'full';
  /** Resolved edits (patch sources not yet run: the runner runs them once it has the model). */
  readonly interventions: readonly ResolvedIntervention[];
  /** Milliseconds spent tokenizing the prompt. */
  readonly tokenizeMs: number;
}

/** A transport's own rules, run at their place in the one sequence. */
export interface TransportRules {
  /** After the tokens and the length rules, before hooks (e.g. what an export cannot hold). */
  afterTokens?: (promptIds: readonly number[]) => void;
  /** After hooks and positions, before the interventions: size limits (413) and the transport's extra fields. */
  beforeEdits?: (p: Pick<RequestPlan, 'dims' | 'hooks' | 'positions' | 'promptIds' | 'detail'>) => void;
}

/**
 * The sequence every request goes through: model -> tokens -> lengths -> hooks -> positions -> limits ->
 * interventions. Throws ProblemError (the same code for the same rule on every transport).
 */
export function planRequest(
  input: PlanInput,
  registry: Pick<ModelRegistry, 'resolve' | 'defaultName'>,
  config: Pick<AppConfig, 'MAX_NEW_TOKENS' | 'MAX_INTERVENTIONS'>,
  rules: TransportRules = {},
): RequestPlan {
  const info = registry.resolve(input.model ?? registry.defaultName);
  const { dims } = info;
  const tokenizer = info.tokenizer ?? GPT2_TOKENIZER; // registries built by hand in tests may omit it
  const t0 = performance.now();
  const promptIds = promptTokens(input, dims.dVocab, { model: info.name, nCtx: dims.nCtx }, tokenizer);
  const tokenizeMs = Math.round((performance.now() - t0) * 1000) / 1000;
  checkLengths(promptIds.length, input.maxNewTokens, info, config.MAX_NEW_TOKENS);
  rules.afterTokens?.(promptIds);
  const hooks = selectModelHooks(input.hooks, dims);
  const positions = resolvePositions(input.positions, promptIds.length);
  rules.beforeEdits?.({ dims, hooks, positions, promptIds, detail: input.detail });
  const interventions = resolveInterventions(input.interventions ?? [], {
    dims,
    promptLength: promptIds.length,
    max: config.MAX_INTERVENTIONS,
    encode: (t: string) => tokenizer.encode(t),
  });
  return Object.freeze({
    model: info.name,
    info,
    dims,
    tokenizer,
    promptIds: Object.freeze(promptIds),
    maxNewTokens: input.maxNewTokens,
    hooks: Object.freeze(hooks),
    positions: Object.freeze(positions),
    detail: input.detail,
    interventions: Object.freeze(interventions),
    tokenizeMs,
  });
}
