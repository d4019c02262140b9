// Next-token distribution of one step: top-k horizontal bars, the sampled token highlighted.
import type { NextToken } from '../../../src/schemas/trace.js';
import { h } from '../dom.js';
import { formatProb, showToken } from '../layout/format.js';

export function renderTopK(alternatives: readonly NextToken[], chosenId: number | null): HTMLElement {
  if (alternatives.length === 0) return h('p', { class: 'muted' }, 'No candidates for this step.');
  const peak = Math.max(...alternatives.map((a) => a.prob), 1e-12);
  const list = h('ol', { class: 'topk', 'aria-label': 'Most likely next tokens' });
  for (const a of alternatives) {
    const chosen = a.id === chosenId;
    const pct = (a.prob / peak) * 100;
    list.append(
      h(
        'li',
        {
          class: chosen ? 'topk-row chosen' : 'topk-row',
          'data-token-id': a.id,
          'data-token-text': a.text,
          title: `id ${a.id} · logit ${a.logit.toFixed(3)} · p ${a.prob.toPrecision(4)}`,
        },
        h('span', { class: 'topk-token mono' }, showToken(a.text)),
        h(
          'span',
          { class: 'topk-bar-track', 'aria-hidden': 'true' },
          h('span', { class: 'topk-bar', style: `width:${pct.toFixed(2)}%` }),
        ),
        h('span', { class: 'topk-prob mono' }, formatProb(a.prob)),
        chosen ? h('span', { class: 'sr-only' }, ' (sampled)') : null,
      ),
    );
  }
  return h(
    'div',
    {},
    list,
    h('p', { class: 'help' }, 'Bar length is relative to the most likely token; the number is its probability.'),
  );
}
