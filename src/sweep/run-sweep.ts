// POST /sweep orchestration: every request rule checked up front, the grid run in the model worker, the reply shaped.
import { performance } from 'node:perf_hooks';
import { badRequest, payloadTooLarge } from '../errors/problem-error.js';
import type { AppConfig } from '../config.js';
import { metricIds } from '../interventions/compare.js';
import type { ModelRegistry } from '../plugins/model-registry.js';
import type { SweepRequest, SweepResponse } from '../schemas/sweep.js';
import { GPT2_TOKENIZER, type ModelTokenizer } from '../tokenizer/model-tokenizer.js';
import { promptTokens } from '../plan/prompt.js';
import { unprocessable } from '../errors/problem-error.js';
import type { ModelDims } from '../arch/model-dims.js';
import type { SweepJob, SweepProgress } from './types.js';

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
  info: { name: string; dims: ModelDims; modelType?: string; tokenizer?: ModelTokenizer },
  config: Pick<AppConfig, 'SWEEP_MAX_CELLS' | 'SWEEP_MAX_VALUES'>,
): SweepPlan {
  const d = info.dims;
  const modelType = info.modelType ?? 'gpt2';
  if (modelType !== 'gpt2' || (d.family ?? 'gpt2') !== 'gpt2') {
    throw badRequest(
      'sweep_unsupported',
      `sweep: sweeps run on GPT-2 checkpoints; ${info.name} is ${modelType}. Single interventions work on /trace.`,
      { field: 'sweep', model_type: modelType },
    );
  }
  const tok = info.tokenizer ?? GPT2_TOKENIZER;
  const ctx = { model: info.name, nCtx: d.nCtx };
  const clean = promptTokens(req, d.dVocab, ctx, tok);
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

export async function runSweep(
  req: SweepRequest,
  registry: ModelRegistry,
  config: AppConfig,
  onProgress?: SweepProgress,
  /** Cut the cells into at least this many batches (the stream, for a progress bar that moves). */
  minBatches = 1,
): Promise<SweepResponse> {
  const t0 = performance.now();
  const info = registry.resolve(req.model ?? registry.defaultName);
  const plan = planSweep(req, info, config);
  const runtime = await registry.get(plan.model);
  if (!runtime.sweep) throw unprocessable('sweep_unsupported', `${plan.model} cannot run sweeps.`);
  const out = await runtime.sweep({ ...plan.job, minBatches }, onProgress);
  return sweepReply(plan, out, performance.now() - t0);
}

/** The reply: axes with labels, the grid, the two reference metrics and the normalized grid. */
export function sweepReply(plan: SweepPlan, out: import('./types.js').SweepOutcome, totalMs: number): SweepResponse {
  const { job, tokenizer: tok } = plan;
  const toks = (ids: number[]) => ids.map((id, position) => ({ id, text: tok.tokenText(id), position }));
  const noising = plan.direction === 'noising';
  const clean = plan.corrupted && !noising ? (out.sourceMetric as number) : out.runMetric;
  const corrupted = plan.corrupted ? (noising ? (out.sourceMetric as number) : out.runMetric) : null;
  const span = corrupted === null ? 0 : clean - corrupted;
  const cols = job.over === 'head' ? [...Array(out.values[0]?.length ?? 0).keys()] : plan.clean.map((_, p) => p);
  return {
    model: plan.model,
    kind: job.kind,
    hook: job.site,
    op: job.kind === 'patch' ? 'patch' : job.op,
    direction: plan.direction,
    metric: { kind: job.metric.kind, token_ids: job.metricIds },
    tokens: toks(plan.clean),
    corrupted_tokens: plan.corrupted ? toks(plan.corrupted) : null,
    axes: [
      { name: 'layer', values: job.layers, labels: job.layers.map(String) },
      {
        name: job.over,
        values: cols,
        labels: job.over === 'head' ? cols.map(String) : plan.clean.map((id) => tok.tokenText(id)),
      },
    ],
    values: out.values,
    clean,
    corrupted,
    normalized:
      corrupted === null || span === 0 ? null : out.values.map((row) => row.map((v) => (v - corrupted) / span)),
    cells: plan.cells,
    computed: out.computed,
    timings: { ...out.timings, total_ms: Math.round(totalMs * 1000) / 1000 },
  };
}
