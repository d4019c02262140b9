// Click a stage of the shape flow, see its tensor: fetches that one hook of the selected step from POST /trace
// (raw values, detail "full") and opens the values under the stage.
import type { z } from 'zod';
import type { StageSchema } from '../../src/schemas/models.js';
import type { TraceResponse } from '../../src/schemas/trace.js';
import { describeError, isAbort, postJson } from './api.js';
import { h } from './dom.js';
import { caption } from './layout/captions.js';
import { hookForStage, traceBodyFor } from './layout/tensor-request.js';
import type { Axis } from './layout/tensor-grid.js';
import { shownIndex, stepFor, tokenTexts, type RunState } from './run-state.js';
import { renderTensor } from './views/tensor-view.js';

type Stage = z.infer<typeof StageSchema>;

export interface TensorContext {
  run: RunState | null;
  layer: number;
  /** The prompt in the form, for a click before any run. */
  prompt: string;
  /** The model the form would run. */
  model: string;
}

let context: () => TensorContext = () => ({ run: null, layer: 0, prompt: '', model: '' });
let abort: AbortController | null = null;

export function setTensorContext(get: () => TensorContext): void {
  context = get;
}

/** Every token id of the run so far: the prompt, then the generated tokens by position. */
function sequenceIds(run: RunState): number[] {
  const ids = (run.started?.prompt_tokens ?? []).map((t) => t.id);
  for (const t of run.tokens) if (t) ids[t.position] = t.token.id;
  return ids;
}

function close(stageEl: HTMLElement): void {
  stageEl.nextElementSibling?.classList.contains('stage-values') && stageEl.nextElementSibling.remove();
  stageEl.setAttribute('aria-expanded', 'false');
}

async function open(stageEl: HTMLElement, stage: Stage): Promise<void> {
  const root = stageEl.closest('.flow');
  for (const other of Array.from(root?.querySelectorAll<HTMLElement>('.stage[aria-expanded="true"]') ?? []))
    close(other);
  const ctx = context();
  const sh = hookForStage(stage, ctx.layer);
  const box = h('div', { class: 'stage-values', role: 'region', 'aria-label': `Values of ${stage.name}` });
  stageEl.after(box);
  stageEl.setAttribute('aria-expanded', 'true');
  const run = ctx.run?.started ? ctx.run : null;
  if (!sh) {
    const ids = run ? run.started?.prompt_tokens.map((t) => `${t.text.trim() || '∅'} = ${t.id}`).join(', ') : '';
    box.replaceChildren(h('p', { class: 'mono' }, ids || 'Run a prompt to see its token ids.'));
    return;
  }
  const index = run ? shownIndex(run) : 0;
  const step = run ? stepFor(run, index) : null;
  abort?.abort();
  const ac = new AbortController();
  abort = ac;
  const where = run && step ? `step ${step.step} (${step.phase}) of the run` : 'the prompt in the form';
  box.replaceChildren(
    h(
      'p',
      { class: 'status busy' },
      h('span', { class: 'spinner', 'aria-hidden': 'true' }),
      `Fetching ${sh.hook} for ${where}…`,
    ),
  );
  try {
    const body =
      run && step
        ? traceBodyFor(run.started?.model ?? ctx.model, sequenceIds(run), step, sh)
        : {
            ...(ctx.model ? { model: ctx.model } : {}),
            prompt: ctx.prompt,
            hooks: [sh.hook],
            positions: sh.lastOnly ? 'last' : 'all',
            detail: 'full',
            logit_lens: false,
            top_k: 1,
            histogram_bins: 1,
          };
    const res = await postJson<TraceResponse>('/trace', body, ac.signal);
    const hook = res.hooks[0];
    if (!hook?.values) throw new Error(`The server returned no values for ${sh.hook}.`);
    const tokens = run ? tokenTexts(run, Math.max(...(step?.positions ?? [0])) + 1) : res.tokens.map((t) => t.text);
    const width = Math.max(240, Math.min(900, (stageEl.parentElement?.clientWidth ?? 700) - 24));
    box.replaceChildren(
      h(
        'p',
        { class: 'meta' },
        `${where}, layer ${ctx.layer} (the Layer picker above chooses it) · ${res.hooks[0].positions.length} position${res.hooks[0].positions.length === 1 ? '' : 's'} · fetched from POST /trace`,
      ),
      renderTensor({
        hook: hook.hook,
        axes: hook.axes as Axis[],
        values: hook.values as (number | null)[], // parsed JSON: a plain array
        positions: hook.positions,
        tokens,
        maxWidth: width,
      }),
    );
  } catch (err) {
    if (isAbort(err)) return;
    box.replaceChildren(h('p', { class: 'status error', role: 'alert' }, describeError(err)));
  }
}

/**
 * Make the stages of a freshly drawn flow clickable when the drawn architecture is the one the page runs
 * (only its activations exist); other architectures keep their caption only.
 */
export function attachStages(flow: HTMLElement, stages: readonly Stage[], runnable: boolean): void {
  const byId = new Map(stages.map((st) => [st.id, st]));
  for (const el of Array.from(flow.querySelectorAll<HTMLElement>('.stage'))) {
    const st = byId.get(el.dataset.stage ?? '');
    if (!st) continue;
    el.querySelector('.stage-text')?.append(h('p', { class: 'caption' }, caption(st)));
    if (!runnable) continue;
    el.classList.add('clickable');
    el.tabIndex = 0;
    el.setAttribute('role', 'button');
    el.setAttribute('aria-expanded', 'false');
    el.title = 'Show the values of this tensor for the selected step';
    const toggle = () => (el.getAttribute('aria-expanded') === 'true' ? close(el) : void open(el, st));
    el.addEventListener('click', toggle);
    el.addEventListener('keydown', (ev: KeyboardEvent) => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        toggle();
      }
    });
  }
}
