// POST /trace orchestration: validate against the model, tokenize, run once with hooks, summarise, continue greedily.
import { performance } from 'node:perf_hooks';
import type { AppConfig } from '../config.js';
import type { ModelRegistry } from '../plugins/model-registry.js';
import type { TraceRequest, TraceResponse } from '../schemas/trace.js';
import { planTrace } from '../plan/trace-plan.js';
import { lastRow as lastLogits } from '../decode/step.js';
import { TRACE_STOP_REASON } from '../sampling/stopping.js';
import { greedyContinue } from './greedy.js';
import { safeDecode, tokenText } from '../tokenizer/token-text.js';
import { traceShapes } from '../arch/trace-shapes.js';
import { summarizeForward, summarizeSpec } from '../decode/summarize-forward.js';
import { attributeLastPosition } from '../attribution/run-attribution.js';
import { attributionHooks } from '../attribution/dla.js';
import { hookDelta, metricValue } from '../interventions/compare.js';
import { runPatchSources } from '../interventions/patch.js';
import { describeApplied, interventionsHash } from '../interventions/resolve.js';
import type { ResolvedIntervention } from '../interventions/types.js';
import { hookSitesFor, parseHookName } from '../hooks/catalogue.js';
import { familyOf } from '../arch/model-dims.js';
import type { ForwardResult } from '../runtime/types.js';

export const RAW_VALUES_NOTE =
  'Raw activations of the checkpoint as stored: no fold_ln, no centering of writing weights or unembedding, ' +
  'no weight processing of any kind; batch axis dropped. Statistics cover the selected positions; ' +
  'mean/std/min/max/abs_max are over finite values (std is the population std), masked attention scores are -inf.';

const ms = (t0: number) => Math.round((performance.now() - t0) * 1000) / 1000;

export async function runTrace(req: TraceRequest, registry: ModelRegistry, config: AppConfig): Promise<TraceResponse> {
  const t0 = performance.now();
  // Everything a request can get wrong is checked before the model is loaded or run.
  const plan = planTrace(req, registry, config);
  const { info, dims, tokenizer: tok, positions, lensPositions, hooks, metricTokenIds } = plan;
  const name = info.name;
  const ids = [...plan.promptIds];
  const withBaseline = req.compare || req.metric !== undefined;
  let interventions: readonly ResolvedIntervention[] = plan.interventions;

  const tLoad = performance.now();
  const runtime = await registry.get(name);
  const loadMs = ms(tLoad);

  // patch sources: each runs once, clean, before the intervened run
  interventions = await runPatchSources(runtime, interventions);
  const { fetch } = plan;
  // [T] ids -> activations over [T, ...] + logits [T, d_vocab], with the edits in force
  const wantsAttribution = req.attribution !== false;
  const summarizeOpts = {
    hooks,
    positions: [...positions],
    offset: 0,
    detail: req.detail,
    topK: req.top_k,
    logitLens: req.logit_lens,
    lensPositions,
    bins: req.histogram_bins,
    tokenizer: tok,
  };
  // the summaries are computed where the activations are (a model worker), not on this thread
  const summarize = summarizeSpec(summarizeOpts);
  const result = await runtime.forward({
    tokenIds: ids,
    hooks: wantsAttribution ? [...new Set([...fetch, ...attributionHooks(dims.nLayer)])] : fetch,
    interventions,
    summarize,
  });
  // the clean run on the same input, for compare / metric
  const clean: ForwardResult | null = withBaseline
    ? await runtime.forward({ tokenIds: ids, hooks: fetch, ...(req.compare ? { summarize } : {}) })
    : null;
  const tSum = performance.now();
  const summary = await summarizeForward(runtime, result, summarizeOpts);
  const baselineSummary = clean && req.compare ? await summarizeForward(runtime, clean, summarizeOpts) : null;
  const attribution = wantsAttribution
    ? await attributeLastPosition(
        info.dir,
        dims,
        result,
        plan.attributionTargets ? [...plan.attributionTargets] : [summary.top_k[0].id],
        typeof req.attribution === 'object' ? req.attribution.top : 10,
        tok,
      )
    : null;
  // this thread's part plus what the model worker spent summarising next to the activations
  const summarizeMs = Math.round((ms(tSum) + (result.summary?.ms ?? 0) + (clean?.summary?.ms ?? 0)) * 1000) / 1000;
  const V = dims.dVocab;
  const lastRow = (r: ForwardResult) => lastLogits(r, V); // [T, d_vocab] -> [d_vocab]
  const metrics =
    req.metric && clean
      ? (() => {
          const m = req.metric;
          const b = metricValue(m, metricTokenIds, lastRow(clean), lastRow(clean));
          const i = metricValue(m, metricTokenIds, lastRow(result), lastRow(clean));
          return { kind: m.kind, token_ids: [...metricTokenIds], baseline: b, intervened: i, delta: i - b };
        })()
      : null;
  const sites = hookSitesFor(familyOf(dims));
  const delta =
    clean && req.compare
      ? hooks.map((h) => {
          const site = parseHookName(h, dims.nLayer, familyOf(dims))?.site ?? sites[0];
          const pick = (r: ForwardResult) => (site.logits ? r.logits : r.activations.get(h)!);
          return hookDelta(pick(result), pick(clean), positions, site.dims[0] === 'head' ? 1 : 0);
        })
      : null;

  const tGen = performance.now();
  const continueFrom = async (
    r: ForwardResult,
    edits: readonly ResolvedIntervention[],
  ): Promise<TraceResponse['generated']> => {
    if (req.max_new_tokens === 0) {
      runtime.release?.(r.present); // a worker holds it: free it now, not at the next GC
      return null;
    }
    const cont = await greedyContinue(
      runtime,
      lastRow(r),
      r.present,
      req.max_new_tokens,
      req.stop_at_eos,
      tok.eosId,
      edits,
    ).finally(() => runtime.release?.(r.present));
    const newIds = cont.tokens.map((t) => t.id);
    return {
      tokens: cont.tokens.map((t, i) => ({
        id: t.id,
        text: tokenText(t.id, tok),
        prob: t.prob,
        position: ids.length + i,
      })),
      text: safeDecode(newIds, tok),
      full_text: safeDecode([...ids, ...newIds], tok),
      stop_reason: TRACE_STOP_REASON[cont.stopReason],
    };
  };
  const generated = await continueFrom(result, interventions);
  let baselineGenerated: TraceResponse['generated'] = null;
  if (clean && req.compare) baselineGenerated = await continueFrom(clean, []);
  else if (clean) runtime.release?.(clean.present);
  const generateMs = ms(tGen);

  return {
    model: name,
    dims: {
      n_layer: dims.nLayer,
      n_head: dims.nHead,
      d_model: dims.dModel,
      d_head: dims.dHead,
      d_mlp: dims.dMlp,
      d_vocab: dims.dVocab,
      n_ctx: dims.nCtx,
    },
    tokens: ids.map((id, position) => ({ id, text: tokenText(id, tok), position })),
    tokenizer: tok.kind,
    bos_prepended: req.prompt !== undefined && tok.prependsBos && ids[0] === tok.bosId,
    positions: [...positions],
    shapes: traceShapes(info.config, ids.length),
    hooks: summary.hooks,
    attention: summary.attention,
    logit_lens: summary.logit_lens,
    top_k: summary.top_k,
    generated,
    applied: describeApplied(interventions, ids.length),
    interventions_hash: interventions.length > 0 ? interventionsHash(interventions) : null,
    baseline: baselineSummary
      ? {
          hooks: baselineSummary.hooks,
          logit_lens: baselineSummary.logit_lens,
          top_k: baselineSummary.top_k,
          generated: baselineGenerated,
        }
      : null,
    delta,
    metrics,
    attribution,
    timings: {
      tokenize_ms: plan.tokenizeMs,
      load_ms: loadMs,
      run_ms: Math.round(result.runMs * 1000) / 1000,
      summarize_ms: summarizeMs,
      generate_ms: generateMs,
      total_ms: ms(t0),
    },
    note: RAW_VALUES_NOTE,
  };
}
