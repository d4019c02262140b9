// Draws one generation: tokens, the next-token bars and the step panels for the selected token and layer.
import type { HookSummary } from '../../src/schemas/trace.js';
import { byId, h } from './dom.js';
import { formatProb, showToken } from './layout/format.js';
import { attentionRows, shownIndex, stepFor, tokenTexts, type RunState } from './run-state.js';
import { renderAttention, type HeadPattern } from './views/attention-view.js';
import { renderHistogram } from './views/histogram-view.js';
import { renderLogitLens } from './views/logit-lens-view.js';
import { renderResidualChart, residualNorms } from './views/residual-chart.js';
import { renderTokens } from './views/tokens-view.js';
import { renderTopK } from './views/topk-view.js';

export interface RunViewOptions {
  layer: number;
  onSelectToken(index: number): void;
}

/** Width available inside an element (falls back to a desktop width before layout). */
function widthOf(id: string, fallback: number): number {
  const w = byId(id).clientWidth;
  return w > 0 ? w : fallback;
}

function renderNext(state: RunState, index: number): void {
  const tok = state.tokens[index];
  const meta = byId('next-meta');
  if (!tok) {
    meta.textContent = '';
    const waiting = state.phase === 'running' || state.phase === 'connecting';
    byId('topk').replaceChildren(
      h('p', { class: 'muted' }, waiting ? 'Waiting for the first token…' : 'No token was generated.'),
    );
    byId('logit-lens').replaceChildren(
      h('p', { class: 'muted' }, waiting ? 'Waiting for the first token…' : 'No token, no lens.'),
    );
    return;
  }
  const s = tok.sampling;
  const how = s.greedy
    ? 'greedy (argmax)'
    : `sampled at T=${s.temperature}, ${s.candidates} candidates, drawn with p ${formatProb(s.prob_filtered)}`;
  // 0-based like positions and the chips' data-index: generated token 0 is the first one.
  meta.textContent = `generated token ${index} at position ${tok.position}: ${showToken(tok.token.text)} · ${how}`;
  byId('topk').replaceChildren(renderTopK(tok.alternatives, tok.token.id));
  byId('logit-lens').replaceChildren(renderLogitLens(tok.logit_lens));
}

function mlpSummary(hooks: readonly HookSummary[], layer: number): HookSummary | undefined {
  return (
    hooks.find((x) => x.layer === layer && x.site === 'mlp.hook_post') ??
    hooks.find((x) => x.layer === layer && x.site === 'mlp.hook_pre')
  );
}

function renderStep(state: RunState, index: number, layer: number): void {
  const step = stepFor(state, index);
  const meta = byId('step-meta');
  if (!step) {
    // A new (or refused) run: no stale figures from the previous one.
    const waiting = state.phase === 'running' || state.phase === 'connecting';
    meta.textContent = waiting ? 'Waiting for the first forward pass…' : '';
    const note = waiting ? 'Waiting for the first forward pass…' : 'No forward pass in this run.';
    for (const id of ['resid-chart', 'attention', 'mlp-hist'])
      byId(id).replaceChildren(h('p', { class: 'muted' }, note));
    return;
  }
  const what =
    step.phase === 'prefill'
      ? `prefill: ${step.input_tokens} prompt tokens in one pass`
      : `decode: 1 token in, ${step.cache_length} in the KV cache`;
  const missing =
    step.step !== index ? ` (step ${index} was skipped by the server to keep up; showing step ${step.step})` : '';
  meta.textContent = `Step ${step.step} — ${what} · positions ${step.positions.join(', ')} · ${step.run_ms.toFixed(1)} ms in onnxruntime${missing}`;

  byId('resid-chart').replaceChildren(
    renderResidualChart(residualNorms(step.hooks), Math.min(520, widthOf('resid-chart', 420))),
  );

  const nHead = state.started?.dims.n_head ?? 0;
  const tokens = tokenTexts(state, step.cache_length);
  const heads: HeadPattern[] = [];
  for (let head = 0; head < nHead; head++) heads.push({ head, rows: attentionRows(state, layer, head, step.step) });
  const present = heads.filter((x) => x.rows.size > 0);
  byId('attention-title').textContent = `Attention patterns · layer ${layer} · query × key`;
  // Up to four heads per row (20px gaps); each heatmap gets an equal share of the panel.
  const panel = widthOf('attention', 900);
  const perRow = Math.max(1, Math.min(4, present.length, Math.floor((panel + 20) / 240)));
  const perHead = Math.max(160, Math.min(460, Math.floor((panel - (perRow - 1) * 20) / perRow) - 40));
  byId('attention').replaceChildren(
    renderAttention({ layer, heads: present, tokens, focusQuery: step.positions.at(-1) ?? null, maxWidth: perHead }),
  );

  byId('mlp-title').textContent = `MLP activations · layer ${layer}`;
  byId('mlp-hist').replaceChildren(
    renderHistogram(mlpSummary(step.hooks, layer), Math.min(520, widthOf('mlp-hist', 420))),
  );
}

export function renderRun(state: RunState, opts: RunViewOptions): void {
  const index = shownIndex(state);
  byId('tokens').replaceChildren(renderTokens(state, index, opts.onSelectToken));
  const started = state.started;
  const d = started?.dims;
  byId('run-meta').textContent =
    started && d
      ? `${started.model} · ${d.n_layer} layers × ${d.n_head} heads · d_model ${d.d_model} · seed ${started.params.seed}${state.done ? ` · ${state.done.timings.tokens_per_s.toFixed(1)} tok/s${started.share === 'saved' ? ' when it was traced' : ''}` : ''}`
      : '';
  renderNext(state, index);
  renderStep(state, index, opts.layer);
}
