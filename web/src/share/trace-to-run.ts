// A saved trace (GET /traces/:id) -> the page's RunState, so the panels draw it exactly as stored (no recomputing):
// the prompt pass is step 0, the next token (or the stored greedy continuation) the generated tokens.
import type { SavedTraceRecipe } from '../../../src/schemas/traces.js';
import type { TraceResponse } from '../../../src/schemas/trace.js';
import type { DoneMessage, StartedMessage, StepMessage, TokenMessage } from '../../../src/schemas/stream.js';
import type { RunState } from '../run-state.js';

export interface SavedTraceView {
  id: string;
  recipe: SavedTraceRecipe;
  trace: TraceResponse;
}

export function savedToRun(saved: SavedTraceView, runId: string): RunState {
  const t = saved.trace;
  const req = saved.recipe.request as { max_new_tokens?: number };
  const nPrompt = t.tokens.length;
  const greedy = {
    greedy: true,
    temperature: 0,
    top_k: 0,
    top_p: 1,
    candidates: 1,
    rank: 0,
    draw: null,
    rng_counter: 0,
    seed: 0,
  };
  const gen = { id: runId };
  const started: StartedMessage = {
    type: 'started',
    ...gen,
    seq: 0,
    model: t.model,
    owner: true,
    share: 'saved',
    params: {
      max_new_tokens: req.max_new_tokens ?? 0,
      temperature: 0,
      top_k: 0,
      top_p: 1,
      seed: 0,
      greedy: true,
      stop: [],
      stop_at_eos: true,
      detail: 'summary',
      logit_lens: t.logit_lens !== null,
      alternatives: t.top_k.length,
      histogram_bins: t.hooks[0]?.histogram?.counts.length ?? 32,
      prefill_positions: t.positions,
      compare: false,
    },
    prompt_tokens: t.tokens,
    hooks: t.hooks.map((x) => x.hook),
    dims: t.dims,
    shapes: t.shapes,
    applied: t.applied,
    interventions_hash: t.interventions_hash,
  } as StartedMessage;
  const step: StepMessage = {
    type: 'step',
    ...gen,
    seq: 1,
    step: 0,
    phase: 'prefill',
    positions: t.positions,
    input_tokens: nPrompt,
    cache_length: nPrompt,
    hooks: t.hooks,
    attention: t.attention,
    coalesced: 0,
    run_ms: t.timings.run_ms,
    summarize_ms: t.timings.summarize_ms,
    interventions_hash: t.interventions_hash,
  };
  // The stored continuation is greedy; without one, the next token is the top candidate.
  const chosen = t.generated?.tokens.length ? t.generated.tokens : [{ ...t.top_k[0], position: nPrompt }];
  let text = '';
  const tokens: TokenMessage[] = chosen.map((c, index) => {
    text += c.text;
    return {
      type: 'token',
      ...gen,
      seq: 2 + index,
      index,
      position: c.position,
      token: { id: c.id, text: c.text },
      // the stored continuation keeps probabilities only; the first token's logit is in top_k
      logit: t.top_k.find((a) => a.id === c.id && index === 0)?.logit ?? Number.NaN,
      prob: c.prob,
      alternatives: index === 0 ? t.top_k : [],
      logit_lens: index === 0 ? t.logit_lens : null,
      sampling: { ...greedy, prob: c.prob, prob_tempered: c.prob, prob_filtered: 1 },
      text,
      interventions_hash: t.interventions_hash,
    };
  });
  const done: DoneMessage = {
    type: 'done',
    ...gen,
    seq: 2 + tokens.length,
    reason: 'length',
    detail: `Saved trace ${saved.id}, shown as stored.`,
    tokens: tokens.length,
    token_ids: tokens.map((x) => x.token.id),
    text,
    stop: null,
    timings: {
      prefill_ms: t.timings.run_ms,
      decode_ms: t.timings.generate_ms,
      total_ms: t.timings.total_ms,
      // as the server measured it when the trace was made: its tokens over the request's own time
      tokens_per_s: t.timings.total_ms > 0 ? (tokens.length / t.timings.total_ms) * 1000 : 0,
      run_ms: t.timings.run_ms,
      summarize_ms: t.timings.summarize_ms,
      paused_ms: 0,
    },
    coalesced: 0,
  };
  return {
    id: runId,
    phase: 'done',
    started,
    steps: new Map([[0, step]]),
    tokens,
    done,
    error: null,
    pinned: null,
  };
}
