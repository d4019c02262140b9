// The distribution the next token is drawn from: bars on an absolute 0-100% scale, filtered-out candidates greyed,
// the entropy of the raw softmax and of the reshaped distribution.
import { h } from '../dom.js';
import type { Distribution } from '../layout/distribution.js';
import { formatProb, showToken } from '../layout/format.js';

export interface DistributionViewInput {
  dist: Distribution;
  /** id -> text for the shown candidates. */
  texts: Map<number, string>;
  /** The token the run chose at this step. */
  chosenId: number;
}

export function renderDistribution({ dist, texts, chosenId }: DistributionViewInput): HTMLElement {
  const list = h('ol', { class: 'topk dist', 'aria-label': 'Distribution the next token is drawn from' });
  for (const c of dist.top) {
    const text = texts.get(c.id) ?? `#${c.id}`;
    const width = (c.kept ? c.drawn : c.tempered) * 100;
    list.append(
      h(
        'li',
        {
          class: `topk-row dist-row${c.kept ? '' : ' excluded'}${c.id === chosenId ? ' chosen' : ''}`,
          'data-token-id': c.id,
          'data-drawn': c.drawn,
          title: `id ${c.id} · logit ${c.logit.toFixed(3)} · softmax ${c.prob.toPrecision(4)} · tempered ${c.tempered.toPrecision(4)}${c.kept ? ` · drawn with ${c.drawn.toPrecision(4)}` : ' · filtered out'}`,
        },
        h('span', { class: 'topk-token mono' }, showToken(text)),
        h(
          'span',
          { class: 'topk-bar-track', 'aria-hidden': 'true' },
          h('span', { class: 'topk-bar', style: `width:${width.toFixed(2)}%` }),
        ),
        h('span', { class: 'topk-prob mono' }, c.kept ? formatProb(c.drawn) : 'excluded'),
        c.id === chosenId ? h('span', { class: 'sr-only' }, ' (the run chose this token)') : null,
      ),
    );
  }
  const bits = (x: number) => `${x.toFixed(2)} bits`;
  const summary = dist.greedy
    ? `Greedy: the argmax is taken (p = 100%). The raw softmax has entropy ${bits(dist.entropyRaw)}; grey bars show it.`
    : `Drawn from ${dist.keptCount} candidate${dist.keptCount === 1 ? '' : 's'} holding ${formatProb(dist.keptMass)} of the tempered mass · entropy ${bits(dist.entropyDrawn)} (raw softmax ${bits(dist.entropyRaw)}).`;
  return h(
    'div',
    {},
    h('p', { class: 'dist-summary', 'data-kept': dist.keptCount }, summary),
    list,
    h(
      'p',
      { class: 'help' },
      'Bars on an absolute scale (full width = 100%): the probability each token is drawn with after temperature, top-k and top-p; grey: filtered out (its tempered probability).',
    ),
  );
}
