// Intervene and compare: toggle heads of the shown layer (zero their hook_z) and/or patch the layer's hook_resid_pre
// from another prompt at one position; one POST /trace (compare: true, metric p(token the run chose), logit lens at
// the predicting position) shows clean and intervened side by side. From the same set: "Generate both" over the
// stream, and the sweeps (sweep-panel.ts).
import type { z } from 'zod';
import type { InterventionRequest as Intervention } from '../../src/schemas/interventions.js';
import type { TokenMessage } from '../../src/schemas/stream.js';
import type { TraceResponse } from '../../src/schemas/trace.js';
import type { ModelDetailSchema } from '../../src/schemas/models.js';
import { describeError, getJson, isAbort, postJson } from './api.js';
import { byId, h } from './dom.js';
import { formatProb, showToken } from './layout/format.js';
import { type BothRun, bothPlaceholder, generateBoth } from './generate-both.js';
import { type RunState, shownIndex, tokenTexts } from './run-state.js';
import type { StreamClient } from './stream-client.js';
import { detachSweep, type SweepTarget, sweepHeads, sweepPatch } from './sweep-panel.js';
import { renderCompareLens } from './views/compare-lens-view.js';

interface Shown {
  run: RunState;
  layer: number;
  tok: TokenMessage;
  model: string;
  /** The input of every request: the run's tokens before the shown one. */
  ids: number[];
  /** The position that predicts the shown token (the input's last). */
  predicting: number;
}

let client: StreamClient | null = null;
let shownFor: string | null = null;
let shown: Shown | null = null;
let heads = new Set<number>();
/** The patch in force; its prompt text outlives a redraw for another token or layer. */
let patch: { prompt: string; position: number } | null = null;
let sourceText = '';
let abort: AbortController | null = null;
let both: BothRun | null = null;
let sweeping = false;

/** The page's stream connection: "Generate both" and the sweeps ride on it. */
export function initAblationPanel(c: StreamClient): void {
  client = c;
}

function sequenceIds(run: RunState): number[] {
  const ids = (run.started?.prompt_tokens ?? []).map((t) => t.id);
  for (const t of run.tokens) if (t) ids[t.position] = t.token.id;
  return ids;
}

function headList(): number[] {
  return [...heads].sort((a, b) => a - b);
}

function interventions(sh: Shown): Intervention[] {
  const list: Intervention[] = [];
  if (heads.size > 0) list.push({ hook: `blocks.${sh.layer}.attn.hook_z`, heads: headList(), op: 'zero' });
  if (patch)
    list.push({
      hook: `blocks.${sh.layer}.hook_resid_pre`,
      positions: [patch.position],
      op: 'patch',
      source: { prompt: patch.prompt },
    });
  return list;
}

/** The active set in words: "heads 0, 2 of layer 1 zeroed + resid_pre of layer 1 at position 4 from "…"". */
function describeSet(sh: Shown): string {
  const parts: string[] = [];
  if (heads.size > 0) parts.push(`heads ${headList().join(', ')} of layer ${sh.layer} zeroed`);
  if (patch) parts.push(`resid_pre of layer ${sh.layer} at position ${patch.position} patched from "${patch.prompt}"`);
  return parts.join(' + ');
}

function bars(title: string, list: TraceResponse['top_k'], targetId: number): HTMLElement {
  return h(
    'div',
    { class: 'ablate-side' },
    h('h4', {}, title),
    h(
      'ol',
      { class: 'topk' },
      ...list.map((a) =>
        h(
          'li',
          { class: `topk-row${a.id === targetId ? ' chosen' : ''}`, 'data-token-id': a.id },
          h('span', { class: 'topk-token mono' }, showToken(a.text)),
          h(
            'span',
            { class: 'topk-bar-track', 'aria-hidden': 'true' },
            h('span', { class: 'topk-bar', style: `width:${(a.prob * 100).toFixed(2)}%` }),
          ),
          h('span', { class: 'topk-prob mono' }, formatProb(a.prob)),
        ),
      ),
    ),
  );
}

function idle(): HTMLElement {
  return h('p', { class: 'muted' }, 'No head ablated, no patch: the run as it was.');
}

async function measure(): Promise<void> {
  const sh = shown;
  if (!sh) return;
  const out = byId('ablate-result');
  abort?.abort();
  updateActions();
  const list = interventions(sh);
  // A running "Generate both" takes the new set from its next token on (the stream's intervene).
  if (both) both.intervene(list, describeSet(sh));
  if (list.length === 0) {
    out.replaceChildren(idle());
    return;
  }
  const ac = new AbortController();
  abort = ac;
  const what = describeSet(sh);
  out.replaceChildren(
    h('p', { class: 'status busy' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), `Running with ${what}…`),
  );
  try {
    const res = await postJson<TraceResponse>(
      '/trace',
      {
        model: sh.model,
        token_ids: sh.ids,
        hooks: [],
        logit_lens: true,
        lens_positions: [sh.predicting],
        top_k: 5,
        interventions: list,
        compare: true,
        metric: { kind: 'prob', token: sh.tok.token.text },
      },
      ac.signal,
    );
    const m = res.metrics;
    const target = showToken(sh.tok.token.text);
    out.replaceChildren(
      m
        ? h(
            'p',
            { class: 'ablate-metric', 'data-baseline': m.baseline, 'data-intervened': m.intervened },
            `p(${target}): clean ${formatProb(m.baseline)} → ${what} ${formatProb(m.intervened)} (${m.delta >= 0 ? '+' : '−'}${(Math.abs(m.delta) * 100).toFixed(2)} points)`,
          )
        : '',
      h(
        'div',
        { class: 'ablate-compare' },
        bars('Clean', res.baseline?.top_k ?? [], sh.tok.token.id),
        bars(`Intervened (${what})`, res.top_k, sh.tok.token.id),
      ),
      renderCompareLens(res.baseline?.logit_lens, res.logit_lens, sh.predicting),
    );
  } catch (err) {
    if (isAbort(err)) return;
    out.replaceChildren(h('p', { class: 'status error', role: 'alert' }, describeError(err)));
  }
}

/** model_type per model name (GET /models/{name}); sweeps need 'gpt2'. Unknown yet or unreadable: allowed. */
const modelTypes = new Map<string, string | null>();

function sweepable(model: string): boolean {
  const type = modelTypes.get(model);
  return type === undefined || type === null || type === 'gpt2';
}

async function learnModelType(model: string): Promise<void> {
  if (modelTypes.has(model)) return;
  modelTypes.set(model, null);
  const detail = await getJson<z.infer<typeof ModelDetailSchema>>(`/models/${encodeURIComponent(model)}`).catch(
    () => null,
  );
  modelTypes.set(model, detail?.model_type ?? null);
  if (shown?.model === model) {
    document.querySelector('#ablate .intervene-actions')?.replaceWith(actions(shown));
    updateActions();
  }
}

function target(sh: Shown): SweepTarget {
  return { model: sh.model, tokenIds: sh.ids, target: sh.tok.token.text, targetId: sh.tok.token.id };
}

/** Enable what the state allows: Generate both needs a set, Cancel a live generation, Patch sweep a source. */
function updateActions(): void {
  const sh = shown;
  const q = <T extends HTMLElement>(id: string) => document.getElementById(id) as T | null;
  const gen = q<HTMLButtonElement>('both-run');
  const cancel = q<HTMLButtonElement>('both-cancel');
  const sh1 = q<HTMLButtonElement>('sweep-heads');
  const sp = q<HTMLButtonElement>('sweep-patch');
  const clear = q<HTMLButtonElement>('patch-clear');
  if (!sh || !gen || !cancel || !sh1 || !sp || !clear) return;
  gen.disabled = both !== null || interventions(sh).length === 0;
  cancel.disabled = both === null;
  const canSweep = sweepable(sh.model);
  sh1.disabled = !canSweep || sweeping;
  sp.disabled = !canSweep || sweeping || sourceText.trim() === '';
  clear.disabled = patch === null;
}

function startBoth(): void {
  const sh = shown;
  if (!sh || !client || both || !sh.run.started) return;
  const list = interventions(sh);
  if (list.length === 0) return;
  both = generateBoth(
    client,
    { model: sh.model, tokenIds: sh.ids, params: sh.run.started.params, interventions: list, label: describeSet(sh) },
    byId('both-out'),
    () => {
      both = null;
      updateActions();
    },
  );
  updateActions();
}

function startSweep(kind: 'heads' | 'patch'): void {
  const sh = shown;
  if (!sh || !client || sweeping) return;
  sweeping = true;
  updateActions();
  const done = () => {
    sweeping = false;
    updateActions();
  };
  const out = byId('sweep-out');
  if (kind === 'heads') sweepHeads(client, target(sh), out, done);
  else void sweepPatch(client, target(sh), sourceText.trim(), out, done);
}

function patchForm(sh: Shown): HTMLElement {
  const texts = tokenTexts(sh.run, sh.tok.position);
  const input = h('input', {
    id: 'patch-source',
    type: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'The capital of Italy is',
    value: sourceText,
  });
  const select = h(
    'select',
    { id: 'patch-position' },
    ...texts.map((t, p) =>
      h('option', { value: p, selected: p === (patch?.position ?? sh.predicting) }, `${p}: ${showToken(t)}`),
    ),
  );
  const clear = h(
    'button',
    { type: 'button', id: 'patch-clear', class: 'secondary', disabled: patch === null },
    'Remove patch',
  );
  const form = h(
    'form',
    { class: 'patch-form', 'aria-label': 'Patch the residual stream from another prompt' },
    h('div', { class: 'inline-field patch-source' }, h('label', { for: 'patch-source' }, 'Patch from prompt'), input),
    h('div', { class: 'inline-field' }, h('label', { for: 'patch-position' }, 'at position'), select),
    h('span', { class: 'patch-site mono', title: 'The hook patched' }, `blocks.${sh.layer}.hook_resid_pre`),
    h('button', { type: 'submit', id: 'patch-apply', class: 'secondary' }, 'Apply patch'),
    clear,
  );
  input.addEventListener('input', () => {
    sourceText = input.value;
    updateActions();
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    sourceText = input.value;
    const text = sourceText.trim();
    patch = text === '' ? null : { prompt: text, position: Number(select.value) };
    void measure();
  });
  select.addEventListener('change', () => {
    if (!patch) return;
    patch = { ...patch, position: Number(select.value) };
    void measure();
  });
  clear.addEventListener('click', () => {
    patch = null;
    void measure();
  });
  return form;
}

function actions(sh: Shown): HTMLElement {
  const btn = (id: string, label: string, onClick: () => void) => {
    const b = h('button', { type: 'button', id, class: 'secondary' }, label);
    b.addEventListener('click', onClick);
    return b;
  };
  const canSweep = sweepable(sh.model);
  return h(
    'div',
    { class: 'intervene-actions' },
    h(
      'div',
      { class: 'action-row', role: 'group', 'aria-label': 'Generate with the set' },
      btn('both-run', 'Generate both', startBoth),
      btn('both-cancel', 'Cancel', () => both?.stop()),
    ),
    h(
      'div',
      { class: 'action-row', role: 'group', 'aria-label': 'Sweeps' },
      btn('sweep-heads', 'Sweep heads', () => startSweep('heads')),
      btn('sweep-patch', 'Patch sweep', () => startSweep('patch')),
    ),
    canSweep
      ? h(
          'p',
          { class: 'help' },
          'Sweep heads zeroes every head of every layer in turn; Patch sweep (with a source prompt) puts the clean run’s hook_resid_pre into the source’s run, one layer and position at a time.',
        )
      : h(
          'p',
          { class: 'help sweep-unsupported' },
          `Sweeps run on GPT-2 checkpoints only; ${sh.model} is a llama-family model. Single interventions above work.`,
        ),
  );
}

/** Called on redraw: the controls for the shown token and layer once the run is settled. */
export function updateAblationPanel(run: RunState | null, layer: number): void {
  const box = byId('ablate');
  const nHead = run?.started?.dims.n_head ?? 0;
  const tok = run ? run.tokens[shownIndex(run)] : undefined;
  const settled = run !== null && (run.done !== null || run.pinned !== null) && tok !== undefined;
  if (!run || !settled || !tok || nHead === 0 || !run.started || tok.position < 1) {
    if (shownFor !== null) {
      reset();
      box.replaceChildren(h('p', { class: 'muted' }, 'After the run: zero a head or patch from another prompt.'));
    }
    shownFor = null;
    return;
  }
  const key = `${run.id}:${shownIndex(run)}:${layer}`;
  if (key === shownFor) return;
  // Another layer of the same token keeps the patch (its position still exists); the site follows the layer.
  const sameToken = shown !== null && shown.run.id === run.id && shown.tok.index === tok.index;
  const kept = sameToken ? patch : null;
  reset();
  patch = kept;
  shownFor = key;
  const sh: Shown = {
    run,
    layer,
    tok,
    model: run.started.model,
    ids: sequenceIds(run).slice(0, tok.position),
    predicting: tok.position - 1,
  };
  shown = sh;
  const buttons = Array.from({ length: nHead }, (_, hd) => {
    const b = h(
      'button',
      { type: 'button', class: 'head-toggle secondary', 'aria-pressed': 'false', 'data-head': hd },
      `head ${hd}`,
    );
    b.addEventListener('click', () => {
      if (heads.has(hd)) heads.delete(hd);
      else heads.add(hd);
      b.setAttribute('aria-pressed', String(heads.has(hd)));
      void measure();
    });
    return b;
  });
  box.replaceChildren(
    h(
      'p',
      { class: 'help' },
      `Layer ${layer}: press a head to zero its output (hook_z) at every position, and/or patch this layer’s residual stream from another prompt; p(${showToken(tok.token.text)}) and the logit lens are compared with the clean run.`,
    ),
    h('div', { class: 'head-toggles', role: 'group', 'aria-label': `Heads of layer ${layer} to ablate` }, ...buttons),
    patchForm(sh),
    h('div', { id: 'ablate-result' }, idle()),
    actions(sh),
    h('div', { id: 'both-out', class: 'both-out' }, bothPlaceholder()),
    h('div', { id: 'sweep-out', class: 'sweep-out' }),
  );
  updateActions();
  void learnModelType(sh.model);
  if (patch) void measure();
}

/** A new token or layer: drop the set (the patch prompt text stays) and stop drawing what ran for the old one. */
function reset(): void {
  abort?.abort();
  abort = null;
  heads = new Set();
  patch = null;
  if (both) {
    both.stop();
    both.detach();
    both = null;
  }
  detachSweep();
  sweeping = false;
  shown = null;
}
