// POST /trace as a plan: the one request sequence plus what only a trace has (logit-lens positions, the response
// size limit, metric tokens, attribution targets).
import type { AppConfig } from '../config.js';
import { resolveAttributionTargets } from '../attribution/run-attribution.js';
import { assertTokenIds } from '../arch/token-rules.js';
import { metricIds } from '../interventions/compare.js';
import type { ModelRegistry } from '../plugins/model-registry.js';
import type { TraceRequest } from '../schemas/trace.js';
import { hooksToFetch } from '../decode/summarize-forward.js';
import { resolvePositions } from './positions.js';
import { planRequest, type RequestPlan } from './request-plan.js';
import { assertWithinBudget, countReturnedValues } from './value-budget.js';

export interface TracePlan extends RequestPlan {
  /** Absolute positions the logit lens reads. */
  readonly lensPositions: readonly number[];
  /** The metric's token ids (empty without a metric). */
  readonly metricTokenIds: readonly number[];
  /** Attribution targets; null = the top-1 next token, fixed after the run (or no attribution). */
  readonly attributionTargets: readonly number[] | null;
  /** Hooks to ask forward() for: the selection plus what the logit lens reads. */
  readonly fetch: readonly string[];
}

export function planTrace(
  req: TraceRequest,
  registry: Pick<ModelRegistry, 'resolve' | 'defaultName'>,
  config: Pick<AppConfig, 'MAX_NEW_TOKENS' | 'MAX_INTERVENTIONS' | 'MAX_RETURNED_VALUES'>,
): TracePlan {
  let lensPositions: number[] = [];
  const plan = planRequest(
    {
      model: req.model,
      prompt: req.prompt,
      token_ids: req.token_ids,
      maxNewTokens: req.max_new_tokens,
      hooks: req.hooks,
      positions: req.positions,
      detail: req.detail,
      interventions: req.interventions,
    },
    registry,
    config,
    {
      beforeEdits: (p) => {
        lensPositions = resolvePositions(req.lens_positions, p.promptIds.length);
        // compare returns every hook twice (the clean baseline too)
        const values = countReturnedValues(p.hooks, p.dims, p.positions, p.promptIds.length, p.detail === 'full');
        assertWithinBudget(values * (req.compare ? 2 : 1), config.MAX_RETURNED_VALUES);
      },
    },
  );
  const { dims, tokenizer: tok } = plan;
  const metricTokenIds = req.metric ? metricIds(req.metric, (t: string) => tok.encode(t)) : [];
  assertTokenIds(metricTokenIds, dims.dVocab, 'metric');
  const attributionTargets = resolveAttributionTargets(
    req.attribution,
    dims.dVocab,
    plan.info.modelType ?? 'gpt2',
    tok,
  );
  return Object.freeze({
    ...plan,
    lensPositions: Object.freeze(lensPositions),
    metricTokenIds: Object.freeze(metricTokenIds),
    attributionTargets: attributionTargets ? Object.freeze(attributionTargets) : null,
    fetch: Object.freeze(hooksToFetch(plan.hooks, dims.nLayer, req.logit_lens)),
  });
}
