// Ablate attention heads from the page: toggle heads of the shown layer, POST /trace with a zero intervention on
// their hook_z (compare: true, metric p(token the run chose)) and show clean and ablated side by side.
import type { TraceResponse } from '../../src/schemas/trace.js';
import { describeError, isAbort, postJson } from './api.js';
import { byId, h } from './dom.js';
import { formatProb, showToken } from './layout/format.js';
import { type RunState, shownIndex } from './run-state.js';

let shownFor: string | null = null;
let heads = new Set<number>();
let abort: AbortController | null = null;
let current: { run: RunState; layer: number } | null = null;

function sequenceIds(run: RunState): number[] {
  const ids = (run.started?.prompt_tokens ?? []).map((t) => t.id);
  for (const t of run.tokens) if (t) ids[t.position] = t.token.id;
  return ids;
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

async function measure(): Promise<void> {
  if (!current) return;
  const { run, layer } = current;
  const tok = run.tokens[shownIndex(run)];
  const out = byId('ablate-result');
  if (!tok || !run.started) return;
  abort?.abort();
  if (heads.size === 0) {
    out.replaceChildren(h('p', { class: 'muted' }, 'No head ablated: the run as it was.'));
    return;
  }
  const ac = new AbortController();
  abort = ac;
  const list = [...heads].sort((a, b) => a - b);
  const hook = `blocks.${layer}.attn.hook_z`;
  out.replaceChildren(
    h(
      'p',
      { class: 'status busy' },
      h('span', { class: 'spinner', 'aria-hidden': 'true' }),
      `Ablating ${hook} heads ${list.join(', ')}…`,
    ),
  );
  try {
    const res = await postJson<TraceResponse>(
      '/trace',
      {
        model: run.started.model,
        token_ids: sequenceIds(run).slice(0, tok.position),
        hooks: [],
        logit_lens: false,
        top_k: 5,
        interventions: [{ hook, heads: list, op: 'zero' }],
        compare: true,
        metric: { kind: 'prob', token: tok.token.text },
      },
      ac.signal,
    );
    const m = res.metrics;
    const target = showToken(tok.token.text);
    out.replaceChildren(
      m
        ? h(
            'p',
            { class: 'ablate-metric', 'data-baseline': m.baseline, 'data-intervened': m.intervened },
            `p(${target}): clean ${formatProb(m.baseline)} → heads ${list.join(', ')} of layer ${layer} zeroed ${formatProb(m.intervened)} (${m.delta >= 0 ? '+' : '−'}${(Math.abs(m.delta) * 100).toFixed(2)} points)`,
          )
        : '',
      h(
        'div',
        { class: 'ablate-compare' },
        bars('Clean', res.baseline?.top_k ?? [], tok.token.id),
        bars(`Ablated (zero ${hook} heads ${list.join(', ')})`, res.top_k, tok.token.id),
      ),
    );
  } catch (err) {
    if (isAbort(err)) return;
    out.replaceChildren(h('p', { class: 'status error', role: 'alert' }, describeError(err)));
  }
}

/** Called on redraw: one button per head of the shown layer once the run is settled; clicking toggles an ablation. */
export function updateAblationPanel(run: RunState | null, layer: number): void {
  const box = byId('ablate');
  const nHead = run?.started?.dims.n_head ?? 0;
  const settled = run !== null && (run.done !== null || run.pinned !== null) && run.tokens[shownIndex(run)];
  if (!run || !settled || nHead === 0) {
    if (shownFor !== null)
      box.replaceChildren(h('p', { class: 'muted' }, 'After the run: zero a head, see p(token) move.'));
    shownFor = null;
    return;
  }
  const key = `${run.id}:${shownIndex(run)}:${layer}`;
  if (key === shownFor) return;
  shownFor = key;
  heads = new Set();
  current = { run, layer };
  const tok = run.tokens[shownIndex(run)];
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
      `Layer ${layer}: press a head to zero its output (hook_z) at every position and compare p(${showToken(tok?.token.text ?? '')}) with the clean run.`,
    ),
    h('div', { class: 'head-toggles', role: 'group', 'aria-label': `Heads of layer ${layer} to ablate` }, ...buttons),
    h('div', { id: 'ablate-result' }, h('p', { class: 'muted' }, 'No head ablated: the run as it was.')),
  );
}
