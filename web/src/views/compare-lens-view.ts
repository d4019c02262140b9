// Logit lens of the clean and the intervened run side by side: per layer, each run's top token and its probability,
// rows where the two top tokens differ highlighted.
import type { LogitLens } from '../../../src/schemas/trace.js';
import { h } from '../dom.js';
import { probColour, textOn } from '../layout/colour.js';
import { formatProb, showToken } from '../layout/format.js';

type LensRow = LogitLens['positions'][number]['layers'][number];

function stageName(layer: number): string {
  return layer < 0 ? 'embed' : `L${layer}`;
}

function topCell(lane: 'clean' | 'intervened', row: LensRow | undefined): HTMLTableCellElement {
  const t = row?.top[0];
  if (!t) return h('td', { 'data-lane': lane }, '–');
  const bg = probColour(t.prob);
  return h(
    'td',
    {
      class: 'lens-cell mono',
      style: `background:${bg};color:${textOn(bg)}`,
      'data-lane': lane,
      'data-token-id': t.id,
      'data-token-text': t.text,
      'data-prob': t.prob,
      title: `${lane}: ${showToken(t.text)} ${t.prob}`,
    },
    showToken(t.text),
    h('span', { class: 'lens-prob' }, formatProb(t.prob)),
  );
}

/** The lens at `position` of both runs; null when either run has no lens there. */
export function renderCompareLens(
  clean: LogitLens | null | undefined,
  intervened: LogitLens | null | undefined,
  position: number,
): HTMLElement {
  const a = clean?.positions.find((p) => p.position === position);
  const b = intervened?.positions.find((p) => p.position === position);
  if (!a || !b) return h('p', { class: 'muted' }, 'No logit lens in this reply.');
  const body = h('tbody', {});
  let differ = 0;
  a.layers.forEach((ra, i) => {
    const rb = b.layers.find((r) => r.layer === ra.layer) ?? b.layers[i];
    const differs = ra.top[0]?.id !== rb?.top[0]?.id;
    if (differs) differ += 1;
    body.append(
      h(
        'tr',
        { 'data-layer': ra.layer, class: differs ? 'differs' : '' },
        h('th', { scope: 'row', class: 'mono', title: ra.stage }, stageName(ra.layer)),
        topCell('clean', ra),
        topCell('intervened', rb),
      ),
    );
  });
  return h(
    'div',
    { class: 'table-scroll compare-lens' },
    h(
      'table',
      { class: 'lens lens-compare', 'aria-label': `Logit lens of both runs at position ${position}` },
      h(
        'caption',
        {},
        `Logit lens at position ${position}: ${differ === 0 ? 'the same top token at every layer' : `the top token differs at ${differ} of ${a.layers.length} stages (highlighted)`}`,
      ),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'layer'),
          h('th', { scope: 'col' }, 'clean'),
          h('th', { scope: 'col' }, 'intervened'),
        ),
      ),
      body,
    ),
  );
}
