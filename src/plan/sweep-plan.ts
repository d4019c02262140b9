// POST /sweep and the stream's `sweep` as a plan: the one request sequence (model, tokens, lengths) for the clean
// prompt, then the sweep's own rules (the corrupted prompt, layers, grid size limits, metric tokens).
import { badRequest, payloadTooLarge } from '../errors/problem-error.js';
import type { AppConfig } from '../config.js';
import { metricIds } from '../interventions/compare.js';
import type { ModelRegistry } from '../plugins/model-registry.js';
import type { SweepRequest } from '../schemas/sweep.js';
import type { ModelTokenizer } from '../tokenizer/model-tokenizer.js';
import type { SweepJob } from '../sweep/types.js';
import { promptTokens } from './prompt.js';
import { planRequest } from './request-plan.js';

/** A validated sweep: the job for the worker and what the reply needs besides its outcome. */
export interface SweepPlan {
  model: string;
  job: SweepJob;
  clean: number[];
  corrupted: number[] | null;
  direction: 'denoising' | 'noising' | null;
  tokenizer: ModelTokenizer;
  cells: number;
}

function sweepLayers(layers: number[] | undefined, nLayer: number): number[] {
  if (layers === undefined) return [...Array(nLayer).keys()];
  const bad = layers.filter((l) => l < 0 || l >= nLayer);
  if (bad.length > 0) {
    throw badRequest(
      'layer_out_of_range',
      `sweep.layers: layers ${bad.slice(0, 5).join(', ')} are outside [0, ${nLayer - 1}].`,
      { field: 'sweep.layers', n_layer: nLayer },
    );
  }
  return [...new Set(layers)].sort((a, b) => a - b);
}

/** Every rule of a sweep request, before anything runs (400s naming the field, 413 over the limits). */
export function planSweep(
  req: SweepRequest,
  registry: Pick<ModelRegistry, 'resolve' | 'defaultName'>,
  config: Pick<AppConfig, 'SWEEP_MAX_CELLS' | 'SWEEP_MAX_VALUES' | 'MAX_NEW_TOKENS' | 'MAX_INTERVENTIONS'>,
): SweepPlan {
  const base = planRequest(
    {
      model: req.model,
      prompt: req.prompt,
      token_ids: req.token_ids,
      maxNewTokens: 0,
      hooks: [],
      positions: 'last',
      detail: 'summary',
    },
    registry,
    config,
  );
  const { info, dims: d, tokenizer: tok } = base;
  const modelType = info.modelType ?? 'gpt2';
  if (modelType !== 'gpt2' || (d.family ?? 'gpt2') !== 'gpt2') {
    throw badRequest(
      'sweep_unsupported',
      `sweep: sweeps run on GPT-2 checkpoints; ${info.name} is ${modelType}. Single interventions work on /trace.`,
      { field: 'sweep', model_type: modelType },
    );
  }
  const ctx = { model: info.name, nCtx: d.nCtx };
  const clean = [...base.promptIds];
  const s = req.sweep;
  const hasCorrupted = req.corrupted !== undefined || req.corrupted_token_ids !== undefined;
  let corrupted: number[] | null = null;
  if (s.kind === 'ablate_heads' && hasCorrupted) {
    throw badRequest('corrupted_not_used', 'corrupted: an ablate_heads sweep runs the clean prompt only; drop it.', {
      field: 'corrupted',
    });
  }
  if (s.kind === 'patch') {
    if (!hasCorrupted) {
      throw badRequest(
        'missing_corrupted',
        'corrupted: a patch sweep needs the corrupted prompt (or corrupted_token_ids).',
        {
          field: 'corrupted',
        },
      );
    }
    if (req.corrupted !== undefined && req.corrupted_token_ids !== undefined) {
      throw badRequest('prompt_and_token_ids', 'Send either "corrupted" or "corrupted_token_ids", not both.', {
        field: 'corrupted',
      });
    }
    corrupted = promptTokens({ prompt: req.corrupted, token_ids: req.corrupted_token_ids }, d.dVocab, ctx, tok);
    if (corrupted.length !== clean.length) {
      throw badRequest(
        'sweep_length_mismatch',
        `corrupted: the corrupted prompt has ${corrupted.length} tokens and the clean one ${clean.length}; ` +
          'patching maps positions one to one, so they need the same length.',
        { field: 'corrupted', clean_tokens: clean.length, corrupted_tokens: corrupted.length },
      );
    }
    if (s.over[1] === 'head' && s.hook !== 'attn.hook_z') {
      throw badRequest(
        'sweep_over_unsupported',
        `sweep.over: ["layer", "head"] needs a hook with a head axis (attn.hook_z); ${s.hook} has none.`,
        { field: 'sweep.over' },
      );
    }
  }
  const layers = sweepLayers(s.layers, d.nLayer);
  const over = s.kind === 'ablate_heads' ? 'head' : s.over[1];
  const nCols = over === 'head' ? d.nHead : clean.length;
  const cells = layers.length * nCols;
  const size = `${layers.length} layers x ${nCols} ${over}s`;
  if (cells > config.SWEEP_MAX_CELLS) {
    throw payloadTooLarge(
      'sweep_too_large',
      `This sweep has ${cells} cells (${size}); the server allows ${config.SWEEP_MAX_CELLS} (SWEEP_MAX_CELLS).`,
      { cells, max: config.SWEEP_MAX_CELLS, limit: 'SWEEP_MAX_CELLS' },
    );
  }
  const values = cells * (s.kind === 'patch' ? 2 : 1);
  if (values > config.SWEEP_MAX_VALUES) {
    throw payloadTooLarge(
      'sweep_too_large',
      `This sweep would return ${values} values (${size}${s.kind === 'patch' ? ', values and normalized' : ''}); ` +
        `the server allows ${config.SWEEP_MAX_VALUES} (SWEEP_MAX_VALUES).`,
      { values, max: config.SWEEP_MAX_VALUES, limit: 'SWEEP_MAX_VALUES' },
    );
  }
  const ids = metricIds(req.metric, (t) => tok.encode(t));
  const direction = s.kind === 'patch' ? s.direction : null;
  const noising = direction === 'noising';
  const job: SweepJob = {
    kind: s.kind,
    op: s.kind === 'ablate_heads' ? s.op : 'zero',
    site: s.kind === 'patch' ? s.hook : 'attn.hook_z',
    over,
    layers,
    runIds: corrupted && !noising ? corrupted : clean,
    sourceIds: corrupted ? (noising ? corrupted : clean) : null,
    metric: req.metric,
    metricIds: ids,
  };
  return { model: info.name, job, clean, corrupted, direction, tokenizer: tok, cells };
}
