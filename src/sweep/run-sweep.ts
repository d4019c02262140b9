// POST /sweep orchestration: the plan (src/plan/sweep-plan.ts), the grid run in the model worker, the reply shaped.
import { performance } from 'node:perf_hooks';
import type { AppConfig } from '../config.js';
import { unprocessable } from '../errors/problem-error.js';
import { planSweep, type SweepPlan } from '../plan/sweep-plan.js';
import type { ModelRegistry } from '../plugins/model-registry.js';
import type { SweepRequest, SweepResponse } from '../schemas/sweep.js';
import type { SweepOutcome, SweepProgress } from './types.js';

export async function runSweep(
  req: SweepRequest,
  registry: ModelRegistry,
  config: AppConfig,
  onProgress?: SweepProgress,
  /** Cut the cells into at least this many batches (the stream, for a progress bar that moves). */
  minBatches = 1,
): Promise<SweepResponse> {
  const t0 = performance.now();
  const plan = planSweep(req, registry, config);
  const runtime = await registry.get(plan.model);
  if (!runtime.sweep) throw unprocessable('sweep_unsupported', `${plan.model} cannot run sweeps.`);
  const out = await runtime.sweep({ ...plan.job, minBatches }, onProgress);
  return sweepReply(plan, out, performance.now() - t0);
}

/** The reply: axes with labels, the grid, the two reference metrics and the normalized grid. */
export function sweepReply(plan: SweepPlan, out: SweepOutcome, totalMs: number): SweepResponse {
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
