// Per-position residual norms of the shown step: one POST /trace (embedding + every resid_post, raw values at the
// step's positions) once the run is settled, drawn as a stage × position heatmap.
import type { TraceResponse } from '../../src/schemas/trace.js';
import { describeError, isAbort, postJson } from './api.js';
import { byId, h } from './dom.js';
import { normGrid } from './layout/resid-norms.js';
import { shownIndex, stepFor, tokenTexts, type RunState } from './run-state.js';
import { renderResidPositions } from './views/resid-positions-view.js';

let shownKey: string | null = null;
let abort: AbortController | null = null;

function sequenceIds(run: RunState): number[] {
  const ids = (run.started?.prompt_tokens ?? []).map((t) => t.id);
  for (const t of run.tokens) if (t) ids[t.position] = t.token.id;
  return ids;
}

export function updateResidPanel(run: RunState | null): void {
  const box = byId('resid-positions');
  if (!run?.started) return;
  const settled = run.done !== null || run.pinned !== null;
  const step = stepFor(run, shownIndex(run));
  if (!settled || !step) {
    if (shownKey !== null) box.replaceChildren();
    shownKey = null;
    return;
  }
  const key = `${run.id}:${step.step}`;
  if (key === shownKey) return;
  shownKey = key;
  abort?.abort();
  const ac = new AbortController();
  abort = ac;
  const last = Math.max(...step.positions);
  const body = {
    model: run.started.model,
    token_ids: sequenceIds(run).slice(0, last + 1),
    hooks: ['blocks.0.hook_resid_pre', 'blocks.*.hook_resid_post'],
    positions: step.positions,
    detail: 'full',
    logit_lens: false,
    top_k: 1,
    histogram_bins: 1,
  };
  const tokens = tokenTexts(run, last + 1);
  postJson<TraceResponse>('/trace', body, ac.signal)
    .then((res) => {
      const grid = normGrid(
        res.hooks.map((x) => ({
          hook: x.hook,
          layer: x.site === 'hook_resid_pre' ? -1 : (x.layer ?? 0),
          positions: x.positions,
          values: (x.values ?? []) as (number | null)[], // parsed JSON: a plain array
        })),
      );
      const width = Math.min(560, byId('resid-chart').clientWidth || 420);
      box.replaceChildren(renderResidPositions(grid, tokens, width));
    })
    .catch((err: unknown) => {
      if (isAbort(err)) return;
      box.replaceChildren(h('p', { class: 'status error', role: 'alert' }, describeError(err)));
    });
}
