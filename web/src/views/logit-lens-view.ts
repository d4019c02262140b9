// Logit-lens table: per residual-stream stage, the top token at the predicting position, coloured by probability.
import type { LogitLens } from '../../../src/schemas/trace.js';
import { h } from '../dom.js';
import { probColour, textOn } from '../layout/colour.js';
import { formatProb, showToken } from '../layout/format.js';

function stageName(layer: number): string {
  return layer < 0 ? 'embed' : `L${layer}`;
}

/** Cell with the token text on its probability colour. */
function probCell(text: string, prob: number, extra: Record<string, string> = {}): HTMLTableCellElement {
  const bg = probColour(prob);
  return h(
    'td',
    { class: 'lens-cell mono', style: `background:${bg};color:${textOn(bg)}`, title: formatProb(prob), ...extra },
    showToken(text),
    h('span', { class: 'lens-prob' }, formatProb(prob)),
  );
}

/** Rows = stages (embedding, then each block's resid_post); columns = top tokens, then p(final top-1). */
export function renderLogitLens(lens: LogitLens | null, columns = 3): HTMLElement {
  const pos = lens?.positions.at(-1);
  if (!lens || !pos) return h('p', { class: 'muted' }, 'Logit lens was not requested for this run.');
  const final = pos.final_top1;
  const head = h(
    'tr',
    {},
    h('th', { scope: 'col' }, 'stage'),
    ...Array.from({ length: columns }, (_, i) => h('th', { scope: 'col' }, i === 0 ? 'top token' : `#${i + 1}`)),
    h('th', { scope: 'col' }, `p(${showToken(final.text)})`),
  );
  const body = h('tbody', {});
  for (const row of pos.layers) {
    const tr = h(
      'tr',
      { 'data-layer': row.layer },
      h('th', { scope: 'row', class: 'mono', title: row.stage }, stageName(row.layer)),
    );
    for (let i = 0; i < columns; i++) {
      const t = row.top[i];
      tr.append(t ? probCell(t.text, t.prob, i === 0 ? { 'data-top1': t.text } : {}) : h('td', {}));
    }
    const bg = probColour(row.final_top1_prob);
    tr.append(
      h(
        'td',
        { class: 'lens-cell mono num', style: `background:${bg};color:${textOn(bg)}` },
        formatProb(row.final_top1_prob),
      ),
    );
    body.append(tr);
  }
  return h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { class: 'lens', 'aria-label': `Logit lens at position ${pos.position}` },
      h(
        'caption',
        {},
        `Position ${pos.position}: what each layer would predict next (final: ${showToken(final.text)} ${formatProb(final.prob)})`,
      ),
      h('thead', {}, head),
      body,
    ),
  );
}
